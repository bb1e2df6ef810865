import { createHash } from 'node:crypto';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type FetchedManifest,
  OCI_MANIFEST,
  OciClient,
  type OciCredentials,
  type OciDescriptor,
  type OciReference,
  parseOciReference,
} from '@ferry/registry-client';
import { openBundle } from '../archive/read-bundle.js';
import { bundleError } from '../errors.js';
import { writeFileAtomic } from '../io.js';
import { placeFiles } from './place-files.js';
import { MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES } from '../limits.js';
import {
  type BundleManifest,
  decodeManifest,
  MANIFEST_MEDIA_TYPE,
  MANIFEST_PATH,
} from '../pack/bundle-manifest.js';
import { SIGSTORE_BUNDLE_MEDIA_TYPE } from '../sign/dsse.js';
import { loadPublicKey, publicKeyHint } from '../sign/keys.js';
import { TarWriter } from '../tar/writer.js';
import { FILEPATH_ANNOTATION, MAX_LAYERS, MODELPACK_ARTIFACT_TYPE, MODELPACK_CONFIG } from './modelpack.js';

export interface OciPullOptions {
  readonly credentials?: OciCredentials;
  /**
   * A manifest may carry several signature referrers (re-signed, or by several keys): with a public
   * key, the one made with it is written; otherwise the newest.
   */
  readonly publicKey?: string;
  readonly onProgress?: (done: number, total: number, file: string) => void;
  /**
   * Replace a bundle or signature already in the folder that differs from the pulled one (ferry
   * pull --force). Without it such a pull fails and writes nothing; the same bytes are kept.
   */
  readonly overwrite?: boolean;
}

export interface OciPullResult {
  readonly bundle: string;
  /** Where the signature referrer was written, when the registry holds one. */
  readonly signature?: string;
  readonly digest: string;
  readonly manifest: BundleManifest;
  readonly bytes: number;
}

/**
 * Pulls a bundle pushed by pushBundle into DIR as NAME-VERSION.ferry (and its signature, when a
 * referrer carries one, as NAME-VERSION.ferry.sig). Before a byte of the bundle is written, the
 * OCI manifest must be a ModelPack artifact whose last layer is the bundle manifest and whose other
 * layers are exactly the files that manifest lists (paths, sizes, digests). Each blob is hashed as
 * it arrives and written into the archive being rebuilt (in a temp file, renamed only when every
 * digest matched), so the bundle is byte for byte the one that was pushed.
 */
export async function pullBundle(
  source: string,
  dir: string,
  options: OciPullOptions = {},
): Promise<OciPullResult> {
  const ref = parseOciReference(source);
  const client = new OciClient({
    endpoint: ref.endpoint,
    repository: ref.repository,
    ...(options.credentials && { credentials: options.credentials }),
  });
  const fail = (rule: string) => bundleError('FERRY_BUNDLE_OCI', { reference: source, rule });
  const fetched = await client.getManifest(ref.digest ?? ref.tag ?? 'latest', [OCI_MANIFEST]);
  if (!fetched) throw fail('the registry holds no such manifest (HTTP 404)');
  const layers = checkArtifact(fetched, fail);
  const manifestLayer = layers.at(-1)!;
  const manifestBytes = await readBlob(client, manifestLayer, MAX_MANIFEST_BYTES, fail);
  const manifest = decodeManifest(manifestBytes, `${source} ${MANIFEST_PATH}`);
  checkLayersAgainstManifest(layers.slice(0, -1), manifest, fail);

  // A folder this pull made is removed again if the pull fails: nothing is left behind.
  const created = await mkdir(dir, { recursive: true });
  try {
    const bundlePath = resolve(join(dir, `${manifest.name}-${manifest.version}.ferry`));
    const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    // Written beside the target first: what the folder already holds is compared before anything moves.
    const pulling = `${bundlePath}.pulling`;
    await writeFileAtomic(pulling, async (file) => {
      const tar = new TarWriter(file);
      for (const record of manifest.files) {
        const digest = `sha256:${record.sha256}`;
        const stream = await client.getBlob(digest);
        const written = await tar.addStream(record.path, record.mode === '0755', record.size, stream, (n) => {
          done += n;
          options.onProgress?.(done, total, record.path);
        });
        if (written.sha256 !== record.sha256)
          throw fail(
            `layer ${record.path} (${digest}) arrived with sha256 ${written.sha256}: the blob does not match its digest`,
          );
      }
      await tar.addBytes(MANIFEST_PATH, false, manifestBytes);
      await tar.finish();
    });
    const sigPulling = `${bundlePath}.sig.pulling`;
    let signature: string | undefined;
    try {
      // The rebuilt archive passes the same structural checks as any bundle (index, manifest agreement).
      await openBundle(pulling);
      const hint = options.publicKey ? publicKeyHint(await loadPublicKey(options.publicKey)) : undefined;
      signature = await pullSignature(client, fetched, sigPulling, hint, fail);
    } catch (error) {
      for (const temp of [pulling, sigPulling]) await unlink(temp).catch(() => undefined);
      throw error;
    }
    await placeFiles(
      [
        { temp: pulling, target: bundlePath },
        ...(signature ? [{ temp: sigPulling, target: `${bundlePath}.sig` }] : []),
      ],
      options.overwrite === true,
    );
    return {
      bundle: bundlePath,
      ...(signature && { signature: `${bundlePath}.sig` }),
      digest: fetched.digest,
      manifest,
      bytes: total,
    };
  } catch (error) {
    if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

function checkArtifact(fetched: FetchedManifest, fail: (rule: string) => Error): OciDescriptor[] {
  let doc: {
    mediaType?: unknown;
    artifactType?: unknown;
    config?: { mediaType?: unknown };
    layers?: unknown;
  };
  try {
    doc = JSON.parse(Buffer.from(fetched.bytes).toString('utf8'));
  } catch (error) {
    throw fail(`the manifest is not JSON (${(error as Error).message})`);
  }
  if (doc.mediaType !== OCI_MANIFEST)
    throw fail(`the manifest's mediaType is ${JSON.stringify(doc.mediaType)}, not ${OCI_MANIFEST}`);
  if (doc.artifactType !== MODELPACK_ARTIFACT_TYPE && doc.config?.mediaType !== MODELPACK_CONFIG)
    throw fail(
      `artifactType ${JSON.stringify(doc.artifactType)} is not a ModelPack model (${MODELPACK_ARTIFACT_TYPE})`,
    );
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) throw fail('the manifest has no layers');
  if (doc.layers.length > MAX_LAYERS)
    throw fail(`${doc.layers.length} layers, over the limit of ${MAX_LAYERS} (MAX_LAYERS, CWE-770)`);
  const layers = doc.layers as OciDescriptor[];
  for (const [i, layer] of layers.entries()) {
    if (
      typeof layer !== 'object' ||
      layer === null ||
      typeof layer.digest !== 'string' ||
      !/^sha256:[0-9a-f]{64}$/.test(layer.digest) ||
      !Number.isSafeInteger(layer.size) ||
      layer.size < 0
    )
      throw fail(`layers[${i}] is not a sha256 descriptor with a size`);
  }
  const last = layers.at(-1)!;
  if (last.mediaType !== MANIFEST_MEDIA_TYPE || last.annotations?.[FILEPATH_ANNOTATION] !== MANIFEST_PATH)
    throw fail(`the last layer is not the bundle manifest (${MANIFEST_PATH}): this is not a ferry bundle`);
  return layers;
}

/** The OCI layers and the bundle manifest must name the same files with the same sizes and digests. */
function checkLayersAgainstManifest(
  layers: readonly OciDescriptor[],
  manifest: BundleManifest,
  fail: (rule: string) => Error,
): void {
  const problems: string[] = [];
  const byPath = new Map(layers.map((l) => [l.annotations?.[FILEPATH_ANNOTATION] ?? '', l]));
  if (byPath.size !== layers.length) problems.push('two layers name the same file path (or none)');
  for (const record of manifest.files) {
    const layer = byPath.get(record.path);
    if (!layer) problems.push(`${record.path} is in the bundle manifest but no layer carries it`);
    else if (layer.digest !== `sha256:${record.sha256}` || layer.size !== record.size)
      problems.push(
        `layer ${record.path} is ${layer.digest} (${layer.size} bytes), the bundle manifest says sha256:${record.sha256} (${record.size} bytes)`,
      );
    byPath.delete(record.path);
  }
  for (const extra of byPath.keys()) problems.push(`layer ${extra} is not in the bundle manifest`);
  if (problems.length > 0) throw fail(problems.join('; '));
}

async function readBlob(
  client: OciClient,
  layer: OciDescriptor,
  limit: number,
  fail: (rule: string) => Error,
): Promise<Uint8Array> {
  if (layer.size > limit)
    throw fail(`blob ${layer.digest} is ${layer.size} bytes, over the limit of ${limit}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const hash = createHash('sha256');
  for await (const chunk of await client.getBlob(layer.digest)) {
    total += chunk.byteLength;
    if (total > layer.size) break;
    hash.update(chunk);
    chunks.push(chunk);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (total !== layer.size || digest !== layer.digest)
    throw fail(
      `blob ${layer.digest} arrived as ${total} bytes with ${digest}: it does not match its descriptor`,
    );
  return Buffer.concat(chunks);
}

/** Signature referrers read per pull: a handful of keys sign a release, not thousands (CWE-770). */
const MAX_SIGNATURES = 32;

/**
 * A signature referrer of the manifest, written beside the bundle: the one whose key hint is
 * `hint` when given, else the newest (referrers are listed oldest first). Undefined when none.
 * Nothing here is trusted: verification happens on the written file.
 */
async function pullSignature(
  client: OciClient,
  subject: FetchedManifest,
  path: string,
  hint: string | undefined,
  fail: (rule: string) => Error,
): Promise<string | undefined> {
  const referrers = (await client.referrers(subject.digest))
    .filter((r) => r.artifactType === SIGSTORE_BUNDLE_MEDIA_TYPE)
    .slice(-MAX_SIGNATURES)
    .reverse();
  let chosen: Uint8Array | undefined;
  for (const entry of referrers) {
    const fetched = await client.getManifest(entry.digest, [OCI_MANIFEST]);
    if (!fetched) continue;
    const doc = JSON.parse(Buffer.from(fetched.bytes).toString('utf8')) as {
      subject?: { digest?: unknown };
      layers?: OciDescriptor[];
    };
    if (doc.subject?.digest !== subject.digest)
      throw fail(`signature referrer ${entry.digest} has another subject`);
    const layer = doc.layers?.find((l) => l.mediaType === SIGSTORE_BUNDLE_MEDIA_TYPE);
    if (!layer) throw fail(`signature referrer ${entry.digest} holds no ${SIGSTORE_BUNDLE_MEDIA_TYPE} layer`);
    const bytes = await readBlob(client, layer, MAX_SIGNATURE_BYTES, fail);
    chosen ??= bytes;
    if (hint === undefined) break;
    if (signatureHint(bytes) === hint) {
      chosen = bytes;
      break;
    }
  }
  if (!chosen) return undefined;
  const bytes = chosen;
  await writeFileAtomic(path, (file) => file.writeFile(bytes));
  return path;
}

/** The public-key hint a signature file names (Sigstore bundle verificationMaterial.publicKey.hint). */
function signatureHint(bytes: Uint8Array): string | undefined {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      verificationMaterial?: { publicKey?: { hint?: unknown } };
    };
    const hint = doc.verificationMaterial?.publicKey?.hint;
    return typeof hint === 'string' ? hint : undefined;
  } catch {
    return undefined;
  }
}

export type { OciReference };
