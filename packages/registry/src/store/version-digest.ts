/** One file of a version being created, as the digest and the version store take it. */
export interface NewFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

// The digest is the client's too (it checks what it pulled): one definition, in the client.
export { versionDigest } from '@ferry/registry-client';
