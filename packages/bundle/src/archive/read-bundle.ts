import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { bundleError } from '../errors.js';
import { readExactly } from '../io.js';
import { MAX_MANIFEST_BYTES } from '../limits.js';
import { type BundleManifest, decodeManifest, MANIFEST_PATH } from '../pack/bundle-manifest.js';
import { readTarIndex, type TarEntry } from '../tar/reader.js';

/** The manifest entry's own mode: pack writes it 0644 like every file that is not executable. */
const MANIFEST_MODE = '0644';

/** A tar header mode as the manifest writes it: four octal digits (`0644`, `04755`). */
export function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** A bundle whose structure is checked: a safe tar index and a manifest that names every entry. */
export interface OpenedBundle {
  readonly path: string;
  readonly entries: readonly TarEntry[];
  readonly manifestEntry: TarEntry;
  readonly manifest: BundleManifest;
}

/**
 * Indexes a bundle (refusing unsafe entries, see readTarIndex) and reads its manifest, which must
 * be the last entry and list exactly the other entries with their sizes. Digests are not checked
 * here (see hashEntry / checkDigests): that needs every byte read.
 */
export async function openBundle(path: string, index?: readonly TarEntry[]): Promise<OpenedBundle> {
  const entries = index ?? (await readTarIndex(path));
  const fail = (rule: string) => bundleError('FERRY_BUNDLE_MANIFEST', { path, rule });
  const manifestEntry = entries.at(-1);
  if (!manifestEntry || manifestEntry.path !== MANIFEST_PATH) {
    const anywhere = entries.some((e) => e.path === MANIFEST_PATH);
    throw fail(anywhere ? 'must be the last entry of the archive' : 'is missing: this is not a ferry bundle');
  }
  if (manifestEntry.size > MAX_MANIFEST_BYTES)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path,
      what: MANIFEST_PATH,
      value: manifestEntry.size,
      limit: MAX_MANIFEST_BYTES,
      reason: 'MAX_MANIFEST_BYTES, CWE-770',
    });
  const file = await open(path, 'r');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(manifestEntry.size);
    await readExactly(file, bytes, manifestEntry.dataOffset, manifestEntry.size, path);
  } finally {
    await file.close();
  }
  const manifest = decodeManifest(bytes, path);
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const problems: string[] = [];
  for (const entry of entries.slice(0, -1)) {
    const record = listed.get(entry.path);
    if (!record) problems.push(`${JSON.stringify(entry.path)} is in the archive but not in the manifest`);
    else if (record.size !== entry.size)
      problems.push(`${JSON.stringify(entry.path)} is ${entry.size} bytes, the manifest says ${record.size}`);
    // The signature covers the manifest, not the tar headers: a header mode that differs from the
    // signed one (0755 for 0644, a setuid bit) would be written unsigned, so it is refused.
    else if (octalMode(entry.mode) !== record.mode)
      problems.push(
        `${JSON.stringify(entry.path)} has mode ${octalMode(entry.mode)} in its tar header, the manifest says ${record.mode}`,
      );
    listed.delete(entry.path);
  }
  for (const missing of listed.keys())
    problems.push(`${JSON.stringify(missing)} is in the manifest but not in the archive`);
  if (octalMode(manifestEntry.mode) !== MANIFEST_MODE)
    problems.push(`its tar header mode is ${octalMode(manifestEntry.mode)}, not ${MANIFEST_MODE}`);
  if (problems.length > 0) throw fail(problems.join('; '));
  return { path, entries, manifestEntry, manifest };
}

/** SHA-256 of one entry's bytes, read in bounded chunks. */
export async function hashEntry(
  file: FileHandle,
  path: string,
  entry: TarEntry,
  buffer: Uint8Array,
): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  while (done < entry.size) {
    const length = Math.min(buffer.length, entry.size - done);
    await readExactly(file, buffer, entry.dataOffset + done, length, path);
    hash.update(buffer.subarray(0, length));
    done += length;
  }
  return hash.digest('hex');
}

/** Every entry's SHA-256 (the manifest's own entry included), by path. */
export async function hashEntries(path: string, entries: readonly TarEntry[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const file = await open(path, 'r');
  try {
    const buffer = new Uint8Array(4 * 1024 * 1024);
    for (const entry of entries) digests.set(entry.path, await hashEntry(file, path, entry, buffer));
  } finally {
    await file.close();
  }
  return digests;
}

/** The entries whose bytes differ from the manifest's record (one message per entry). */
export function digestProblems(bundle: OpenedBundle, digests: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const record of bundle.manifest.files) {
    const actual = digests.get(record.path);
    if (actual !== record.sha256)
      problems.push(
        `${JSON.stringify(record.path)} has sha256 ${actual?.slice(0, 16)}..., the manifest says ${record.sha256.slice(0, 16)}...`,
      );
  }
  return problems;
}

/** One entry's bytes, for the small entries ferry itself reads (ferry.yaml); bounded by `limit`. */
export async function readEntry(
  bundle: OpenedBundle,
  path: string,
  limit: number,
): Promise<Uint8Array | undefined> {
  const entry = bundle.entries.find((e) => e.path === path);
  if (!entry) return undefined;
  if (entry.size > limit)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path: bundle.path,
      what: path,
      value: entry.size,
      limit,
      reason: 'read into memory',
    });
  const bytes = new Uint8Array(entry.size);
  const file = await open(bundle.path, 'r');
  try {
    await readExactly(file, bytes, entry.dataOffset, entry.size, bundle.path);
  } finally {
    await file.close();
  }
  return bytes;
}
