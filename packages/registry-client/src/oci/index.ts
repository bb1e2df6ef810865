export { type Challenge, parseChallenge } from './challenge.js';
export {
  type BlobProgress,
  type CallInit,
  DEFAULT_OCI_CHUNK_BYTES,
  type FetchedManifest,
  MAX_OCI_MANIFEST_BYTES,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  OciClient,
  type OciClientOptions,
  type OciCredentials,
  type OciDescriptor,
  receivedBytes,
  referrersTag,
  sha256Digest,
} from './client.js';
export { formatOciReference, isOciReference, type OciReference, parseOciReference } from './reference.js';
