import { Readable } from 'node:stream';
import { registryError } from '../errors.js';
import { type CallInit, OciClient, type OciCredentials, receivedBytes } from '@ferry/registry-client';
import { MAX_FILE_BYTES } from '../limits.js';
import {
  type BlobStore,
  type ByteRange,
  type ByteStream,
  checkDigest,
  checkSha256,
  HashingStream,
  type StoredBlob,
  type UploadState,
} from './blob-store.js';

/**
 * Blobs in any OCI distribution registry (distribution/distribution, Harbor, ECR, GHCR), through
 * the blob part of the distribution API (OCI distribution-spec v1.1 "Pushing blobs"):
 * POST starts an upload, PATCH appends a chunk, PUT ?digest= commits it (the registry verifies
 * the digest), HEAD says whether a blob exists, GET with Range reads it.
 * `oci://HOST:PORT/NAMESPACE` names the repository the blobs live in; blobs are addressed by
 * digest only, so no manifest is needed. (Blobs no manifest references are only removed by the
 * registry's garbage collector, which ferry never runs.)
 */
export class OciBlobStore implements BlobStore {
  readonly kind = 'oci';
  private readonly base: string;
  private readonly repository: string;
  /** The distribution client shared with bundle push/pull (oci/client.ts): auth, errors, uploads. */
  private readonly client: OciClient;

  constructor(
    endpoint: string,
    repository: string,
    headers: Record<string, string> = {},
    credentials?: OciCredentials,
  ) {
    this.client = new OciClient({ endpoint, repository, headers, ...(credentials && { credentials }) });
    this.base = this.client.base;
    this.repository = repository;
  }

  /** `oci://HOST:PORT/NAMESPACE` (plain HTTP, for loopback registries) or `ocis://` (HTTPS). */
  static fromUri(uri: string): OciBlobStore {
    const match = /^(ocis?):\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `--blobs ${uri}`,
        reason: 'expected oci://HOST:PORT/NAMESPACE',
      });
    return new OciBlobStore(`${match[1] === 'ocis' ? 'https' : 'http'}://${match[2]}`, match[3]!);
  }

  private blobUrl(sha256: string): string {
    return `${this.base}/v2/${this.repository}/blobs/sha256:${checkSha256(sha256)}`;
  }

  private call(method: string, url: string, init: CallInit): Promise<Response> {
    return this.client.call(method, url, init);
  }

  async stat(sha256: string): Promise<number | undefined> {
    const response = await this.call('HEAD', this.blobUrl(sha256), { ok: [200, 404] });
    return response.status === 404 ? undefined : Number(response.headers.get('content-length'));
  }

  async put(data: ByteStream, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    checkSha256(expected.sha256);
    const hashing = new HashingStream(data, expected.size ?? MAX_FILE_BYTES);
    if ((await this.stat(expected.sha256)) !== undefined) {
      // Already stored: read the body anyway so a wrong digest claim is still caught.
      for await (const _ of hashing) {
        // hashing only
      }
      checkDigest(
        `blob sha256:${expected.sha256}`,
        { sha256: hashing.digest(), size: hashing.bytes },
        expected,
      );
      return { sha256: expected.sha256, size: hashing.bytes, created: false };
    }
    const state = await this.startUpload('put');
    try {
      const { state: next } = await this.appendUpload(state, 0, hashing);
      checkDigest(
        `blob sha256:${expected.sha256}`,
        { sha256: hashing.digest(), size: hashing.bytes },
        expected,
      );
      return await this.finishUpload(next, expected);
    } catch (error) {
      await this.abortUpload(state).catch(() => undefined);
      throw error;
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const response = await this.call('GET', this.blobUrl(sha256), {
      ok: [200, 206, 404],
      headers: range ? { range: `bytes=${range.start}-${range.end}` } : {},
    });
    if (response.status === 404 || !response.body)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'blob', name: `sha256:${sha256}` });
    if (range && response.status !== 206)
      throw registryError('FERRY_REGISTRY_BACKEND', {
        backend: `OCI registry ${this.base}`,
        reason: 'ignored the Range header',
      });
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  async delete(sha256: string): Promise<void> {
    await this.call('DELETE', this.blobUrl(sha256), { ok: [202, 404, 405] });
  }

  async startUpload(_id: string): Promise<UploadState> {
    const response = await this.call('POST', `${this.base}/v2/${this.repository}/blobs/uploads/`, {
      ok: [202],
    });
    return { location: this.absolute(response.headers.get('location')) };
  }

  async appendUpload(
    state: UploadState,
    offset: number,
    data: ByteStream,
  ): Promise<{ state: UploadState; received: number }> {
    const location = String(state.location);
    // Where the registry stands: a PATCH that was cut off may have landed partly or not at all.
    const status = await this.call('GET', location, { ok: [204, 404] });
    if (status.status === 404)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'upload', name: location });
    const have = receivedBytes(status.headers.get('range'));
    if (!have.includes(offset))
      throw registryError('FERRY_REGISTRY_CONFLICT', {
        what: 'upload',
        name: location,
        reason: `the OCI registry holds ${have.at(-1)} bytes, the chunk starts at ${offset}`,
      });
    const counting = new HashingStream(data, MAX_FILE_BYTES - offset);
    // Streamed PATCH without Content-Range (distribution-spec "chunked upload" of unknown length).
    const response = await this.call('PATCH', this.absolute(status.headers.get('location') ?? location), {
      ok: [202],
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(Readable.from(counting)) as unknown as RequestInit['body'],
      duplex: 'half',
    } as RequestInit & { ok: number[] });
    return {
      state: { location: this.absolute(response.headers.get('location')) },
      received: offset + counting.bytes,
    };
  }

  async uploadStatus(
    state: UploadState,
    recorded: number,
  ): Promise<{ state: UploadState; received: number }> {
    const status = await this.call('GET', String(state.location), { ok: [204, 404] });
    if (status.status === 204) {
      const have = receivedBytes(status.headers.get('range'));
      return {
        state: { location: this.absolute(status.headers.get('location') ?? String(state.location)) },
        received: have.includes(recorded) ? recorded : have.at(-1)!,
      };
    }
    // BLOB_UPLOAD_INVALID/UNKNOWN: a PATCH was cut off, so the signed state no longer matches the
    // registry's offset. Start over; the old session is left to the registry's upload purging.
    return { state: await this.startUpload('restart'), received: 0 };
  }

  async finishUpload(state: UploadState, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    checkSha256(expected.sha256);
    const location = String(state.location);
    const existed = (await this.stat(expected.sha256)) !== undefined;
    const url = new URL(location);
    url.searchParams.set('digest', `sha256:${expected.sha256}`);
    await this.call('PUT', url.toString(), { ok: [201] });
    const size = await this.stat(expected.sha256);
    if (size === undefined)
      throw registryError('FERRY_REGISTRY_BACKEND', {
        backend: `OCI registry ${this.base}`,
        reason: `committed sha256:${expected.sha256} but HEAD does not find it`,
      });
    if (expected.size !== undefined && size !== expected.size)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `upload sha256:${expected.sha256}`,
        reason: `stored ${size} bytes, expected ${expected.size}`,
      });
    return { sha256: expected.sha256, size, created: !existed };
  }

  async abortUpload(state: UploadState): Promise<void> {
    await this.call('DELETE', String(state.location), { ok: [204, 404] }).catch(() => undefined);
  }

  async close(): Promise<void> {}

  private absolute(location: string | null): string {
    return this.client.absolute(location);
  }
}
