import { readFile, stat } from 'node:fs/promises';
import {
  formatOciReference,
  OCI_MANIFEST,
  OciClient,
  type OciCredentials,
  parseOciReference,
  sha256Digest,
} from '@ferry/registry-client';
import { openBundle, readEntry } from '../archive/read-bundle.js';
import { bundleError } from '../errors.js';
import { MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES } from '../limits.js';
import { MANIFEST_PATH } from '../pack/bundle-manifest.js';
import { SIGSTORE_BUNDLE_MEDIA_TYPE } from '../sign/dsse.js';
import { defaultSignaturePath } from '../sign/sign.js';
import { buildArtifact, buildSignatureArtifact, EMPTY_CONFIG, MAX_LAYERS } from './modelpack.js';

export interface OciPushOptions {
  readonly credentials?: OciCredentials;
  /** The signature to attach (default BUNDLE.sig when it exists; false = none). */
  readonly signature?: string | false;
  readonly chunkBytes?: number;
  readonly onProgress?: (done: number, total: number, file: string) => void;
}

export interface OciPushResult {
  /** oci://HOST/REPO@sha256:... */
  readonly reference: string;
  readonly tag: string;
  readonly digest: string;
  readonly layers: number;
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytes: number;
  readonly signature?: { readonly digest: string; readonly path: string };
}

/**
 * Pushes a bundle to an OCI registry as a ModelPack artifact (see modelpack.ts): each file is
 * a blob (skipped when the registry holds it, else chunked PATCH uploads), then the config and the
 * manifest under TAG (default: the bundle's version); the signature, when there is one, becomes a
 * referrer of that manifest.
 */
export async function pushBundle(
  bundlePath: string,
  target: string,
  options: OciPushOptions = {},
): Promise<OciPushResult> {
  const ref = parseOciReference(target);
  if (ref.digest)
    throw bundleError('FERRY_BUNDLE_OCI', { reference: target, rule: 'push to a tag, not a digest' });
  // No hashing pass here: each blob is uploaded under the digest the bundle manifest records, and
  // the registry checks the bytes against it on commit (PUT ?digest=), so a file that disagrees
  // with its manifest fails the push (FERRY_REGISTRY_DIGEST_MISMATCH); a blob the registry already
  // holds is by definition the right bytes.
  const bundle = await openBundle(bundlePath);
  if (bundle.entries.length > MAX_LAYERS)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path: bundlePath,
      what: 'the number of files',
      value: bundle.entries.length,
      limit: MAX_LAYERS,
      reason: 'MAX_LAYERS: one OCI layer per file, and registries cap manifests at 4 MiB',
    });
  const manifestBytes = (await readEntry(bundle, MANIFEST_PATH, MAX_MANIFEST_BYTES))!;
  const artifact = buildArtifact(bundle.manifest, manifestBytes);
  const client = new OciClient({
    endpoint: ref.endpoint,
    repository: ref.repository,
    ...(options.credentials && { credentials: options.credentials }),
  });

  let signature: Uint8Array | undefined;
  let signaturePath: string | undefined;
  if (options.signature !== false) {
    signaturePath = options.signature ?? defaultSignaturePath(bundlePath);
    const info = await stat(signaturePath).catch(() => undefined);
    if (info) {
      if (info.size > MAX_SIGNATURE_BYTES)
        throw bundleError('FERRY_BUNDLE_LIMIT', {
          path: signaturePath,
          what: 'the signature file',
          value: info.size,
          limit: MAX_SIGNATURE_BYTES,
          reason: 'MAX_SIGNATURE_BYTES, CWE-770',
        });
      signature = await readFile(signaturePath);
    } else if (options.signature !== undefined)
      throw bundleError('FERRY_BUNDLE_SIGNATURE', { path: signaturePath, rule: 'no such signature file' });
  }

  const total = bundle.entries.reduce((sum, e) => sum + e.size, 0);
  let before = 0;
  let uploaded = 0;
  let skipped = 0;
  for (const entry of bundle.entries) {
    const record =
      entry === bundle.manifestEntry ? undefined : bundle.manifest.files.find((f) => f.path === entry.path);
    const digest = record ? `sha256:${record.sha256}` : sha256Digest(manifestBytes);
    const { created } = await client.pushFile(bundlePath, digest, entry.size, {
      fileOffset: entry.dataOffset,
      ...(options.chunkBytes && { chunkBytes: options.chunkBytes }),
      onProgress: (done) => options.onProgress?.(before + done, total, entry.path),
    });
    before += entry.size;
    if (created) uploaded++;
    else skipped++;
  }
  await client.pushBytes(artifact.config);
  const tag = ref.tag ?? bundle.manifest.version;
  const { digest } = await client.putManifest(tag, artifact.manifest, OCI_MANIFEST);

  let signed: OciPushResult['signature'];
  if (signature && signaturePath) {
    await client.pushBytes(EMPTY_CONFIG);
    await client.pushBytes(signature);
    const referrer = buildSignatureArtifact(signature, { digest, size: artifact.manifest.byteLength });
    const sigDigest = await client.pushReferrer(referrer, OCI_MANIFEST, SIGSTORE_BUNDLE_MEDIA_TYPE, digest);
    signed = { digest: sigDigest, path: signaturePath };
  }
  return {
    reference: formatOciReference(ref, digest),
    tag,
    digest,
    layers: artifact.layers.length,
    uploaded,
    skipped,
    bytes: total,
    ...(signed && { signature: signed }),
  };
}
