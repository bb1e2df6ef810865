import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { registryError } from '../errors.js';
import { parseChallenge } from './challenge.js';
import { sendBuffer, streamGet } from './http-send.js';

/** Username and password (or token) for a registry: Basic auth, or the token endpoint's credentials. */
export interface OciCredentials {
  readonly username: string;
  readonly password: string;
}

export interface OciClientOptions {
  /** `http://HOST:PORT` or `https://HOST`. */
  readonly endpoint: string;
  /** The repository (distribution-spec `<name>`). */
  readonly repository: string;
  readonly credentials?: OciCredentials;
  /** Extra headers on every request. */
  readonly headers?: Record<string, string>;
}

export type CallInit = RequestInit & { ok: number[] };

/** OCI manifests are read into memory: distribution refuses manifests over 4 MiB (manifest PUT limit). */
export const MAX_OCI_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Default PATCH chunk: large enough for few round trips, small enough to hold in memory and resend. */
export const DEFAULT_OCI_CHUNK_BYTES = 64 * 1024 * 1024;
/** A chunk that fails (connection cut, 5xx) is retried from the registry's own offset this many times. */
const CHUNK_RETRIES = 3;
/** Redirects followed on a blob GET (registry -> storage backend is one). */
const MAX_REDIRECTS = 5;

const REPOSITORY = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

export interface FetchedManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: string;
}

export type BlobProgress = (done: number, total: number) => void;

/**
 * A client for the OCI distribution API (distribution-spec v1.1): blobs (HEAD, GET with Range,
 * POST + chunked PATCH + PUT uploads that resume from the registry's offset), manifests, and
 * referrers (the API, or the referrers tag schema when the registry has none). Authentication as
 * registries ask for it: a 401 with `WWW-Authenticate: Basic` is answered with the credentials,
 * one with `Bearer realm=...,service=...,scope=...` by fetching a token from the realm (Docker's
 * token protocol) with the credentials, if any, and retrying with `Authorization: Bearer`.
 * Used by the registry's OCI blob store and by bundle push/pull.
 */
export class OciClient {
  readonly base: string;
  readonly repository: string;
  private authorization: string | undefined;
  private probed = false;

  constructor(private readonly options: OciClientOptions) {
    this.base = options.endpoint.replace(/\/+$/, '');
    this.repository = options.repository;
    if (!REPOSITORY.test(options.repository) || options.repository.length > 255)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `OCI repository ${JSON.stringify(options.repository)}`,
        reason: 'lowercase path components (distribution-spec name rule)',
      });
  }

  url(path: string): string {
    return `${this.base}/v2/${this.repository}/${path}`;
  }

  /**
   * One request; a 401 is answered once by authenticating and resending. A streamed body cannot be
   * resent, so before the first one the client asks /v2/ for the challenge.
   */
  async call(method: string, url: string, init: CallInit): Promise<Response> {
    const streamed = init.body !== undefined && init.body !== null && !isResendable(init.body);
    if (streamed && !this.authorization && !this.probed) await this.probe();
    let response = await this.send(method, url, init);
    if (response.status === 401 && !streamed) {
      const challenge = response.headers.get('www-authenticate');
      await response.body?.cancel().catch(() => undefined);
      await this.authenticate(challenge);
      response = await this.send(method, url, init);
    }
    if (!init.ok.includes(response.status)) {
      const text = await response.text().catch(() => '');
      if (response.status === 401 || response.status === 403)
        throw registryError('FERRY_REGISTRY_UNAUTHORIZED', {
          reason: `${method} ${url}: HTTP ${response.status} from the OCI registry${this.options.credentials ? '' : ' (no credentials given: FERRY_OCI_USERNAME / FERRY_OCI_PASSWORD)'}: ${text.slice(0, 200)}`,
        });
      if (response.status === 400 && text.includes('DIGEST_INVALID'))
        throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
          path: url,
          actual: '(other)',
          expected: url.split('digest=')[1] ?? '',
        });
      throw registryError('FERRY_REGISTRY_HTTP', {
        method,
        url,
        status: response.status,
        reason: text.slice(0, 300) || response.statusText,
      });
    }
    return response;
  }

  private async send(method: string, url: string, init: CallInit): Promise<Response> {
    const { ok: _ok, ...rest } = init;
    try {
      if (init.body instanceof Uint8Array && init.body.byteLength >= 1024 * 1024)
        return await sendBuffer(
          method,
          url,
          {
            ...this.options.headers,
            ...(this.authorization && { authorization: this.authorization }),
            ...(init.headers as Record<string, string>),
          },
          init.body,
        );
      return await fetch(url, {
        ...rest,
        method,
        headers: {
          ...this.options.headers,
          ...(this.authorization && { authorization: this.authorization }),
          ...(init.headers as Record<string, string>),
        },
      });
    } catch (error) {
      throw registryError(
        'FERRY_REGISTRY_BACKEND',
        { backend: `OCI registry ${this.base}`, reason: (error as Error).message },
        error,
      );
    }
  }

  private async probe(): Promise<void> {
    this.probed = true;
    const response = await this.send('GET', `${this.base}/v2/`, { ok: [] });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 401) await this.authenticate(response.headers.get('www-authenticate'));
  }

  private async authenticate(header: string | null): Promise<void> {
    const challenge = header ? parseChallenge(header) : undefined;
    const credentials = this.options.credentials;
    const unauthorized = (reason: string) => registryError('FERRY_REGISTRY_UNAUTHORIZED', { reason });
    if (!challenge)
      throw unauthorized(`${this.base} answered 401 without a usable WWW-Authenticate challenge`);
    if (challenge.scheme === 'basic') {
      if (!credentials)
        throw unauthorized(
          `${this.base} asks for Basic credentials: set FERRY_OCI_USERNAME and FERRY_OCI_PASSWORD`,
        );
      this.authorization = basic(credentials);
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm)
      throw unauthorized(
        `${this.base} asks for ${challenge.scheme} authentication, which ferry does not speak`,
      );
    // Docker's token protocol: GET realm?service=...&scope=... (distribution docs/spec/auth/token.md)
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', challenge.params.scope ?? `repository:${this.repository}:pull,push`);
    let response: Response;
    try {
      response = await fetch(realm, { headers: credentials ? { authorization: basic(credentials) } : {} });
    } catch (error) {
      throw registryError('FERRY_REGISTRY_BACKEND', {
        backend: `token service ${realm.origin}`,
        reason: (error as Error).message,
      });
    }
    const text = await response.text();
    if (response.status !== 200)
      throw unauthorized(
        `token service ${realm.origin} answered HTTP ${response.status}: ${text.slice(0, 200)}`,
      );
    let token: unknown;
    try {
      const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0)
      throw unauthorized(`token service ${realm.origin} answered no "token" or "access_token"`);
    this.authorization = `Bearer ${token}`;
  }

  // --- blobs ---

  /** Size of a blob, or undefined when the repository does not hold it. */
  async statBlob(digest: string): Promise<number | undefined> {
    const response = await this.call('HEAD', this.url(`blobs/${digest}`), { ok: [200, 404] });
    return response.status === 404 ? undefined : Number(response.headers.get('content-length'));
  }

  /** A blob's bytes (or an inclusive range of them) as a stream; 404 -> FERRY_REGISTRY_NOT_FOUND. */
  async getBlob(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    const extra: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    let url = this.url(`blobs/${digest}`);
    const origin = new URL(url).origin;
    const get = async (target: string) => {
      // credentials go to the registry only, never to the storage a blob GET redirects to (S3 URLs)
      const sameOrigin = new URL(target).origin === origin;
      try {
        return await streamGet(target, {
          ...(sameOrigin && this.options.headers),
          ...(sameOrigin && this.authorization && { authorization: this.authorization }),
          ...extra,
        });
      } catch (error) {
        throw registryError(
          'FERRY_REGISTRY_BACKEND',
          { backend: `OCI registry ${this.base}`, reason: (error as Error).message },
          error,
        );
      }
    };
    let response = await get(url);
    if (response.status === 401) {
      response.body.resume();
      await this.authenticate(response.headers.get('www-authenticate'));
      response = await get(url);
    }
    // distribution answers blob GETs with a redirect to its storage backend (S3, GCS) when configured
    for (let hops = 0; [301, 302, 303, 307, 308].includes(response.status) && hops < MAX_REDIRECTS; hops++) {
      response.body.resume();
      url = new URL(response.headers.get('location') ?? '', url).toString();
      response = await get(url);
    }
    if (response.status === 404) {
      response.body.resume();
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'blob', name: digest });
    }
    if (response.status !== 200 && response.status !== 206) {
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) if (chunks.length < 4) chunks.push(chunk as Buffer);
      throw registryError(
        response.status === 401 || response.status === 403
          ? 'FERRY_REGISTRY_UNAUTHORIZED'
          : 'FERRY_REGISTRY_HTTP',
        {
          method: 'GET',
          url,
          status: response.status,
          reason: `GET ${url}: HTTP ${response.status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`,
        },
      );
    }
    if (range && response.status !== 206) {
      response.body.destroy();
      throw registryError('FERRY_REGISTRY_BACKEND', {
        backend: `OCI registry ${this.base}`,
        reason: 'ignored the Range header',
      });
    }
    return response.body;
  }

  /** POST: a new upload session; returns its absolute location. */
  async startUpload(): Promise<string> {
    const response = await this.call('POST', this.url('blobs/uploads/'), { ok: [202] });
    return this.absolute(response.headers.get('location'));
  }

  /** GET on an upload: how many bytes the registry holds, and the session's current location. */
  async uploadOffset(location: string): Promise<{ location: string; received: number[] } | undefined> {
    const status = await this.call('GET', location, { ok: [204, 404] });
    if (status.status === 404) return undefined;
    return {
      location: this.absolute(status.headers.get('location') ?? location),
      received: receivedBytes(status.headers.get('range')),
    };
  }

  /** PATCH one chunk at `offset` with Content-Range (distribution-spec "chunked upload"). */
  async patchChunk(location: string, offset: number, chunk: Uint8Array): Promise<string> {
    const response = await this.call('PATCH', location, {
      ok: [202],
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${offset}-${offset + chunk.byteLength - 1}`,
        'content-length': String(chunk.byteLength),
      },
      body: chunk as unknown as RequestInit['body'],
    });
    return this.absolute(response.headers.get('location'));
  }

  /** PUT ?digest=: the registry checks the digest and makes the upload a blob. */
  async commitUpload(location: string, digest: string, last?: Uint8Array): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    await this.call('PUT', url.toString(), {
      ok: [201],
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(last?.byteLength ?? 0),
      },
      ...(last && { body: last as unknown as RequestInit['body'] }),
    });
  }

  async abortUpload(location: string): Promise<void> {
    await this.call('DELETE', location, { ok: [204, 404] }).catch(() => undefined);
  }

  /** A small blob from memory (config, signature): HEAD first, then POST + PUT with the body. */
  async pushBytes(
    bytes: Uint8Array,
    digest = sha256Digest(bytes),
  ): Promise<{ digest: string; created: boolean }> {
    if ((await this.statBlob(digest)) !== undefined) return { digest, created: false };
    const location = await this.startUpload();
    await this.commitUpload(location, digest, bytes);
    return { digest, created: true };
  }

  /**
   * A file (or `size` bytes of it from `fileOffset`: one entry of an archive) as a blob: skipped when the registry already holds the digest (HEAD); otherwise PATCHed
   * chunk by chunk. A chunk that fails is resent from the offset the registry reports (GET on the
   * upload), so a cut connection costs at most one chunk; the PUT names the digest, which the
   * registry checks against what it received.
   */
  async pushFile(
    path: string,
    digest: string,
    size: number,
    options: { chunkBytes?: number; onProgress?: BlobProgress; fileOffset?: number } = {},
  ): Promise<{ created: boolean }> {
    if ((await this.statBlob(digest)) !== undefined) {
      options.onProgress?.(size, size);
      return { created: false };
    }
    const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_OCI_CHUNK_BYTES);
    const file = await open(path, 'r');
    let location = await this.startUpload();
    try {
      const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size, 1)));
      let offset = 0;
      let failures = 0;
      while (offset < size) {
        const length = Math.min(buffer.length, size - offset);
        const { bytesRead } = await file.read(buffer, 0, length, (options.fileOffset ?? 0) + offset);
        if (bytesRead !== length)
          throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
            what: path,
            reason: `shrank while being pushed (${size} bytes expected, ended at ${offset + bytesRead})`,
          });
        try {
          location = await this.patchChunk(location, offset, buffer.subarray(0, length));
          offset += length;
          failures = 0;
          options.onProgress?.(offset, size);
        } catch (error) {
          if (++failures > CHUNK_RETRIES) throw error;
          const status = await this.uploadOffset(location);
          if (!status) throw error;
          // Resume where the registry stands: it may hold the chunk partly, wholly or not at all.
          // "0-0" is ambiguous (0 or 1 byte): start a fresh session then.
          if (status.received.length > 1) {
            await this.abortUpload(status.location);
            location = await this.startUpload();
            offset = 0;
          } else {
            location = status.location;
            offset = status.received[0]!;
          }
        }
      }
      await this.commitUpload(location, digest);
      return { created: true };
    } catch (error) {
      await this.abortUpload(location);
      throw error;
    } finally {
      await file.close();
    }
  }

  /** Mounts nothing, copies nothing: resolves a relative Location header against the endpoint. */
  absolute(location: string | null): string {
    if (!location)
      throw registryError('FERRY_REGISTRY_BACKEND', {
        backend: `OCI registry ${this.base}`,
        reason: 'upload response without a Location header',
      });
    return new URL(location, this.base).toString();
  }

  // --- manifests ---

  /** PUT a manifest by tag or digest; returns its digest and whether the registry processed `subject`. */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subjectProcessed: boolean }> {
    const response = await this.call('PUT', this.url(`manifests/${reference}`), {
      ok: [201],
      headers: { 'content-type': mediaType },
      body: bytes as unknown as RequestInit['body'],
    });
    await response.body?.cancel().catch(() => undefined);
    // OCI-Subject: the registry indexed the subject (distribution-spec "Pushing Manifests with Subject")
    return { digest: sha256Digest(bytes), subjectProcessed: response.headers.has('oci-subject') };
  }

  /** GET a manifest (or index) by tag or digest, within MAX_OCI_MANIFEST_BYTES; undefined on 404. */
  async getManifest(reference: string, accept: readonly string[]): Promise<FetchedManifest | undefined> {
    const response = await this.call('GET', this.url(`manifests/${reference}`), {
      ok: [200, 404],
      headers: { accept: accept.join(', ') },
    });
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > MAX_OCI_MANIFEST_BYTES)
      throw registryError('FERRY_REGISTRY_TOO_LARGE', {
        what: `manifest ${reference}`,
        value: declared,
        limit: MAX_OCI_MANIFEST_BYTES,
      });
    const bytes = await readLimited(response, MAX_OCI_MANIFEST_BYTES, `manifest ${reference}`);
    const digest = sha256Digest(bytes);
    // A manifest fetched by digest must hash to it (distribution-spec "Pulling manifests").
    if (reference.startsWith('sha256:') && reference !== digest)
      throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
        path: this.url(`manifests/${reference}`),
        actual: digest,
        expected: reference,
      });
    return { bytes, mediaType: (response.headers.get('content-type') ?? '').split(';')[0]!.trim(), digest };
  }

  // --- referrers ---

  /**
   * The manifests whose `subject` is `digest` (descriptors of an image index): the referrers API
   * when the registry has one, else the referrers tag schema (`sha256-<hex>`), as the spec says
   * clients must fall back to when the API answers 404.
   */
  async referrers(digest: string): Promise<OciDescriptor[]> {
    const response = await this.call('GET', this.url(`referrers/${digest}`), {
      ok: [200, 404],
      headers: { accept: OCI_INDEX },
    });
    if (response.status === 200) {
      const bytes = await readLimited(response, MAX_OCI_MANIFEST_BYTES, `referrers of ${digest}`);
      return indexManifests(bytes);
    }
    await response.body?.cancel().catch(() => undefined);
    const fallback = await this.getManifest(referrersTag(digest), [OCI_INDEX]);
    return fallback ? indexManifests(fallback.bytes) : [];
  }

  /**
   * Pushes a manifest that has a `subject`; when the registry did not process the subject (no
   * OCI-Subject header: no referrers API), adds it to the referrers tag's index.
   */
  async pushReferrer(
    bytes: Uint8Array,
    mediaType: string,
    artifactType: string,
    subject: string,
  ): Promise<string> {
    const pushed = await this.putManifest(sha256Digest(bytes), bytes, mediaType);
    if (pushed.subjectProcessed) return pushed.digest;
    const tag = referrersTag(subject);
    const existing = await this.getManifest(tag, [OCI_INDEX]);
    const manifests = existing ? indexManifests(existing.bytes) : [];
    if (!manifests.some((m) => m.digest === pushed.digest))
      manifests.push({ mediaType, digest: pushed.digest, size: bytes.byteLength, artifactType });
    const index = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }),
    );
    await this.putManifest(tag, index, OCI_INDEX);
    return pushed.digest;
  }
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

/** The referrers tag schema's tag for a digest: `<alg>-<hex>` (distribution-spec v1.1). */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-').slice(0, 128);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function indexManifests(bytes: Uint8Array): OciDescriptor[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    doc = undefined;
  }
  const manifests = (doc as { manifests?: unknown } | undefined)?.manifests;
  if (!Array.isArray(manifests))
    throw registryError('FERRY_REGISTRY_BACKEND', {
      backend: 'OCI registry',
      reason: 'a referrers index is not an image index with "manifests"',
    });
  return manifests.filter(
    (m): m is OciDescriptor =>
      typeof m === 'object' && m !== null && typeof m.digest === 'string' && typeof m.mediaType === 'string',
  );
}

async function readLimited(response: Response, limit: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw registryError('FERRY_REGISTRY_TOO_LARGE', { what, value: total, limit });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function basic(credentials: OciCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function isResendable(body: unknown): boolean {
  return typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/**
 * The byte counts a `Range: 0-N` upload status allows. distribution answers `0-0` both for an
 * empty upload and for one byte (registry/handlers/blobupload.go), so that header means 0 or 1.
 */
export function receivedBytes(header: string | null): number[] {
  const match = header ? /^(?:bytes=)?0-(\d+)$/.exec(header) : null;
  if (!match) return [0];
  const end = Number(match[1]);
  return end === 0 ? [0, 1] : [end + 1];
}
