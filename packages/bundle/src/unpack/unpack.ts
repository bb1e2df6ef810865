import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { openBundle } from '../archive/read-bundle.js';
import { bundleError, isBundleError } from '../errors.js';
import { readExactly } from '../io.js';
import type { BundleManifest } from '../pack/bundle-manifest.js';
import { type VerifyResult, verifyBundle } from '../sign/verify.js';

export interface UnpackOptions {
  /** Verify the signature with this public key before anything is written. */
  readonly publicKey?: string;
  /** The signature file (default BUNDLE.sig). */
  readonly signature?: string;
}

export interface UnpackResult {
  readonly path: string;
  readonly files: number;
  readonly bytes: number;
  readonly manifest: BundleManifest;
  readonly verified?: VerifyResult;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Extracts a bundle into OUT (which must not exist, or be an empty folder). The whole index is
 * checked first (no `..` or absolute paths, links, devices, duplicates: readTarIndex), then, with
 * a public key, the signature; files are written only inside a temp folder beside OUT, each one's
 * SHA-256 checked against the manifest as it is written, and the folder is renamed to OUT only
 * when every file matched. On any failure the temp folder is removed and OUT is untouched.
 */
export async function unpackBundle(
  bundlePath: string,
  out: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const bundle = await openBundle(bundlePath);
  const verified = options.publicKey
    ? await verifyBundle(bundlePath, options.publicKey, options.signature)
    : undefined;
  const target = resolve(out);
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw bundleError(
      'FERRY_BUNDLE_OUTPUT',
      { path: target, rule: `cannot be used: ${error.message}` },
      error,
    );
  });
  if (existing && existing.length > 0)
    throw bundleError('FERRY_BUNDLE_OUTPUT', {
      path: target,
      rule: 'is not empty; ferry unpack writes only into a new or empty folder',
    });
  await mkdir(dirname(target), { recursive: true });
  const temp = await mkdtemp(join(dirname(target), `.${basename(target)}.ferry-unpack-`));
  const records = new Map(bundle.manifest.files.map((f) => [f.path, f]));
  let bytes = 0;
  try {
    const input = await open(bundlePath, 'r');
    try {
      const buffer = new Uint8Array(CHUNK);
      for (const entry of bundle.entries) {
        const dest = join(temp, ...entry.path.split('/'));
        // Defence in depth: readTarIndex already refused every path that could leave the folder.
        const inside = relative(temp, dest);
        if (inside.startsWith(`..${sep}`) || inside === '..' || resolve(dest) !== dest)
          throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
            path: bundlePath,
            entry: JSON.stringify(entry.path),
            rule: 'leaves the folder (CWE-22)',
          });
        await mkdir(dirname(dest), { recursive: true });
        // The mode comes from the manifest (the signed record: 0644 or 0755 only), never from the
        // tar header; openBundle already refused a header that disagrees with it.
        const record = records.get(entry.path);
        const mode = record?.mode === '0755' ? 0o755 : 0o644;
        const output = await open(dest, 'wx', mode);
        const hash = createHash('sha256');
        try {
          let done = 0;
          while (done < entry.size) {
            const length = Math.min(CHUNK, entry.size - done);
            await readExactly(input, buffer, entry.dataOffset + done, length, bundlePath);
            const chunk = buffer.subarray(0, length);
            hash.update(chunk);
            let written = 0;
            while (written < length)
              written += (await output.write(chunk, written, length - written)).bytesWritten;
            done += length;
          }
          await output.chmod(mode);
        } finally {
          await output.close();
        }
        const digest = hash.digest('hex');
        if (record && record.sha256 !== digest)
          throw bundleError('FERRY_BUNDLE_DIGEST', {
            path: bundlePath,
            rule: `${JSON.stringify(entry.path)} has sha256 ${digest.slice(0, 16)}..., the manifest says ${record.sha256.slice(0, 16)}... (nothing was unpacked)`,
          });
        bytes += entry.size;
      }
    } finally {
      await input.close();
    }
    // mkdtemp makes the folder 0700; the unpacked bundle is an ordinary folder like its files.
    await chmod(temp, 0o755);
    if (existing) await rmdir(target);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (isBundleError(error)) throw error;
    throw bundleError('FERRY_BUNDLE_IO', { path: target, reason: (error as Error).message }, error);
  }
  return {
    path: target,
    files: bundle.entries.length,
    bytes,
    manifest: bundle.manifest,
    ...(verified && { verified }),
  };
}
