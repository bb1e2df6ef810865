import { OCI_EMPTY, OCI_MANIFEST, type OciDescriptor, sha256Digest } from '@ferry/registry-client';
import {
  type BundleManifest,
  type FileRole,
  MANIFEST_MEDIA_TYPE,
  MANIFEST_PATH,
} from '../pack/bundle-manifest.js';
import { SIGSTORE_BUNDLE_MEDIA_TYPE } from '../sign/dsse.js';

/**
 * CNCF ModelPack media types (github.com/modelpack/model-spec, docs/spec.md and docs/config.md):
 * the artifact type of a model manifest, its config, and one raw (untarred) layer per file.
 */
export const MODELPACK_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODELPACK_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const MODELPACK_WEIGHT = 'application/vnd.cncf.model.weight.v1.raw';
export const MODELPACK_WEIGHT_CONFIG = 'application/vnd.cncf.model.weight.config.v1.raw';
export const MODELPACK_CODE = 'application/vnd.cncf.model.code.v1.raw';
export const MODELPACK_DOC = 'application/vnd.cncf.model.doc.v1.raw';
/** The file path a layer unpacks to (ModelPack's annotation). */
export const FILEPATH_ANNOTATION = 'org.cncf.model.filepath';
/** ferry's own: the tar mode of the file, so a pull rebuilds the bundle byte for byte. */
export const MODE_ANNOTATION = 'io.ferry.bundle.file.mode';

/** Layers per manifest: distribution refuses manifests over 4 MiB, about 10,000 descriptors (CWE-770). */
export const MAX_LAYERS = 8192;

/** A bundle file's layer media type, by its role in the bundle. */
export function layerMediaType(role: FileRole): string {
  switch (role) {
    case 'model':
      return MODELPACK_WEIGHT;
    case 'doc':
      return MODELPACK_DOC;
    case 'file':
      // files the handler reads beside the model: vocabularies, label maps (ModelPack "weight config")
      return MODELPACK_WEIGHT_CONFIG;
    default:
      // spec, handler, generated, lockfile, dependency: what runs around the model
      return MODELPACK_CODE;
  }
}

export interface BuiltArtifact {
  readonly config: Uint8Array;
  readonly manifest: Uint8Array;
  readonly layers: readonly OciDescriptor[];
}

/**
 * The OCI image manifest of a bundle: one layer per file in archive order, then the bundle's own
 * manifest (.ferry/manifest.json) as the last layer. A raw layer's digest is the file's SHA-256,
 * the same one the bundle manifest and the signature list. No timestamps: pushing the same bundle
 * twice gives the same manifest digest.
 */
export function buildArtifact(manifest: BundleManifest, manifestBytes: Uint8Array): BuiltArtifact {
  const layers: OciDescriptor[] = manifest.files.map((f) => ({
    mediaType: layerMediaType(f.role),
    digest: `sha256:${f.sha256}`,
    size: f.size,
    annotations: {
      [FILEPATH_ANNOTATION]: f.path,
      [MODE_ANNOTATION]: f.mode,
      'org.opencontainers.image.title': f.path,
    },
  }));
  layers.push({
    mediaType: MANIFEST_MEDIA_TYPE,
    digest: sha256Digest(manifestBytes),
    size: manifestBytes.byteLength,
    annotations: { [FILEPATH_ANNOTATION]: MANIFEST_PATH, [MODE_ANNOTATION]: '0644' },
  });
  const formats = [...new Set(manifest.models.map((m) => m.format))];
  const config = json({
    descriptor: { name: manifest.name, version: manifest.version },
    config: { format: formats.join(',') },
    modelfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  });
  const body = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MODELPACK_ARTIFACT_TYPE,
    config: { mediaType: MODELPACK_CONFIG, digest: sha256Digest(config), size: config.byteLength },
    layers,
    annotations: {
      'org.opencontainers.image.title': manifest.name,
      'org.opencontainers.image.version': manifest.version,
    },
  });
  return { config, manifest: body, layers };
}

/** `{}`: the config of an artifact that needs none (image-spec "Guidance for an Empty Descriptor"). */
export const EMPTY_CONFIG = new TextEncoder().encode('{}');

/** The referrer artifact that carries a signature file, with the bundle's manifest as its subject. */
export function buildSignatureArtifact(
  signature: Uint8Array,
  subject: { digest: string; size: number },
): Uint8Array {
  return json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    config: { mediaType: OCI_EMPTY, digest: sha256Digest(EMPTY_CONFIG), size: EMPTY_CONFIG.byteLength },
    layers: [
      {
        mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
        digest: sha256Digest(signature),
        size: signature.byteLength,
        annotations: { 'org.opencontainers.image.title': 'bundle.sig' },
      },
    ],
    subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
  });
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
