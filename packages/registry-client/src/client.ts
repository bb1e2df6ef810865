import { mkdir, rename } from 'node:fs/promises';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256File } from '@ferry/formats';
import { RemoteRegistryError, registryError } from './errors.js';
import { checkFilePath, parseModelUri } from './names.js';
import { ChunkCache } from './chunk-cache.js';
import { downloadChunked } from './chunked-download.js';
import { MAX_RETRIES, sleep } from './retry.js';
import { downloadWholeFile } from './whole-file-download.js';
import { chunkLocal } from './chunk-local.js';
import { type TransferBytes, uploadMissing } from './chunked-upload.js';
import { type LocalFile, listLocal } from './local-files.js';
import { sendFileRange } from './send-file-range.js';
import type {
  CreateModelBody,
  CreateRunBody,
  CreateVersionBody,
  LogRunBody,
  UpdateModelBody,
} from './schemas.js';
import type {
  Alias,
  AuditEntry,
  Deployment,
  DeploymentStatus,
  LineageGraph,
  Model,
  ModelVersion,
  Run,
  TokenInfo,
  VersionSharing,
  Visibility,
} from './types.js';
import { versionDigest } from './version-digest.js';

export const DEFAULT_REGISTRY = 'http://127.0.0.1:8080';
/** Files above this upload in resumable chunks of this size. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export interface ClientOptions {
  readonly url?: string;
  readonly token?: string;
  readonly chunkBytes?: number;
}

/** `bytes`: of a chunked push or pull, the bytes sent (or fetched) and skipped so far. */
export type { LocalFile } from './local-files.js';
export { listLocal, scanLocal } from './local-files.js';

export type Progress = (done: number, total: number, path: string, bytes?: TransferBytes) => void;

export interface PushOptions {
  readonly model: string;
  readonly alias?: string;
  readonly runId?: string;
  readonly derivedFrom?: readonly string[];
  readonly description?: string;
  readonly sourceUri?: string;
  readonly visibility?: Visibility;
  /** Defaults to the digest of the files: pushing the same files again returns the same version. */
  readonly idempotencyKey?: string;
  readonly onProgress?: Progress;
}

const enc = encodeURIComponent;

/** `?k=v&...` of the defined entries, or nothing. */
function queryString(query: Record<string, string | number | undefined>): string {
  const entries = Object.entries(query).flatMap(([k, v]): [string, string][] =>
    v === undefined ? [] : [[k, String(v)]],
  );
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}
const _filePath = (path: string) => path.split('/').map(enc).join('/');

/** A typed client for the registry's native REST API (used by the CLI and the bundle package). */
export class RegistryClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly chunkBytes: number;

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? DEFAULT_REGISTRY).replace(/\/+$/, '');
    this.token = options.token;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  /** One HTTP call; a non-2xx answer becomes the server's error code and message. */
  async request(
    method: string,
    path: string,
    init: { json?: unknown; body?: unknown; headers?: Record<string, string>; ok?: number[] } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: unknown = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body as RequestInit['body'],
        ...(body instanceof Readable || isAsyncIterable(body) ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      throw registryError(
        'FERRY_REGISTRY_BACKEND',
        {
          backend: `registry ${this.url}`,
          reason: `${(error as Error).message}${(error as { cause?: Error }).cause ? `: ${(error as { cause: Error }).cause.message}` : ''}`,
        },
        error,
      );
    }
    if (response.ok || init.ok?.includes(response.status)) return response;
    const text = await response.text().catch(() => '');
    throw errorAnswer(method, `${this.url}${path}`, response.status, text || response.statusText);
  }

  private async json<T>(
    method: string,
    path: string,
    json?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const response = await this.request(method, path, { json, headers });
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  // --- models ---
  whoami = () => this.json<{ user: string; anonymous: boolean; scopes: string[] }>('GET', '/api/v1/whoami');
  listModels = (query: { namespace?: string; search?: string } = {}) =>
    this.json<{ models: Model[]; total: number }>(
      'GET',
      `/api/v1/models?${new URLSearchParams(query as Record<string, string>)}`,
    );
  getModel = (name: string) => this.json<Model>('GET', `/api/v1/models/${enc(name)}`);
  createModel = (body: CreateModelBody) => this.json<Model>('POST', '/api/v1/models', body);
  updateModel = (name: string, body: UpdateModelBody) =>
    this.json<Model>('PATCH', `/api/v1/models/${enc(name)}`, body);
  deleteModel = (name: string) => this.json<void>('DELETE', `/api/v1/models/${enc(name)}`);
  setModelTag = (name: string, key: string, value: string) =>
    this.json<Model>('PUT', `/api/v1/models/${enc(name)}/tags/${enc(key)}`, { value });
  deleteModelTag = (name: string, key: string) =>
    this.json<Model>('DELETE', `/api/v1/models/${enc(name)}/tags/${enc(key)}`);
  getCard = (name: string) =>
    this.json<{ text: string; metadata: Record<string, unknown>; body: string }>(
      'GET',
      `/api/v1/models/${enc(name)}/card`,
    );
  setCard = (name: string, card: string) =>
    this.json<{ text: string; metadata: Record<string, unknown>; body: string }>(
      'PUT',
      `/api/v1/models/${enc(name)}/card`,
      { card },
    );

  // --- versions and aliases ---
  listVersions = async (name: string, all = false) =>
    (
      await this.json<{ versions: ModelVersion[] }>(
        'GET',
        `/api/v1/models/${enc(name)}/versions${all ? '?all=true' : ''}`,
      )
    ).versions;
  getVersion = (name: string, version: number) =>
    this.json<ModelVersion>('GET', `/api/v1/models/${enc(name)}/versions/${version}`);
  createVersion = (name: string, body: CreateVersionBody) =>
    this.json<{ version: ModelVersion; missing: string[] }>(
      'POST',
      `/api/v1/models/${enc(name)}/versions`,
      body,
    );
  versionSharing = (name: string, version: number) =>
    this.json<VersionSharing>('GET', `/api/v1/models/${enc(name)}/versions/${version}/sharing`);
  commitVersion = (name: string, version: number) =>
    this.json<ModelVersion>('POST', `/api/v1/models/${enc(name)}/versions/${version}/commit`);
  deleteVersion = (name: string, version: number) =>
    this.json<void>('DELETE', `/api/v1/models/${enc(name)}/versions/${version}`);
  setVersionTag = (name: string, version: number, key: string, value: string) =>
    this.json<ModelVersion>('PUT', `/api/v1/models/${enc(name)}/versions/${version}/tags/${enc(key)}`, {
      value,
    });
  getAlias = (name: string, alias: string) =>
    this.json<Alias>('GET', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`);
  setAlias = (name: string, alias: string, version: number, protect?: boolean) =>
    this.json<Alias>('PUT', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, {
      version,
      ...(protect !== undefined && { protected: protect }),
    });
  deleteAlias = (name: string, alias: string) =>
    this.json<void>('DELETE', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`);

  /** `models:/NAME@ALIAS`, `models:/NAME/VERSION` or `models:/NAME` (latest ready version). */
  async resolve(uri: string): Promise<{ model: string; version: number }> {
    const parsed = parseModelUri(uri);
    if (parsed.alias)
      return { model: parsed.model, version: (await this.getAlias(parsed.model, parsed.alias)).version };
    if (parsed.version !== undefined) return { model: parsed.model, version: parsed.version };
    const latest = (await this.getModel(parsed.model)).latestVersion;
    if (latest === null)
      throw new RemoteRegistryError(
        'FERRY_REGISTRY_NOT_FOUND',
        `ready version of ${parsed.model} does not exist`,
        404,
      );
    return { model: parsed.model, version: latest };
  }

  // --- deployments ---
  listDeployments = async (model?: string) =>
    (
      await this.json<{ deployments: Deployment[] }>(
        'GET',
        `/api/v1/deployments${model === undefined ? '' : `?model=${enc(model)}`}`,
      )
    ).deployments;
  getDeployment = (name: string) => this.json<Deployment>('GET', `/api/v1/deployments/${enc(name)}`);
  putDeployment = (
    name: string,
    body: { model: string; alias: string; config?: Record<string, unknown> | null; endpoint?: string },
  ) => this.json<Deployment>('PUT', `/api/v1/deployments/${enc(name)}`, body);
  reportDeployment = (
    name: string,
    body: { status: DeploymentStatus; liveVersion: number | null; message?: string; endpoint?: string },
  ) => this.json<Deployment>('POST', `/api/v1/deployments/${enc(name)}/status`, body);
  deleteDeployment = (name: string) => this.json<void>('DELETE', `/api/v1/deployments/${enc(name)}`);

  // --- runs, lineage, audit, tokens ---
  createRun = (body: CreateRunBody) => this.json<Run>('POST', '/api/v1/runs', body);
  logRun = (id: string, body: LogRunBody) => this.json<Run>('POST', `/api/v1/runs/${enc(id)}/log`, body);
  getRun = (id: string) => this.json<Run>('GET', `/api/v1/runs/${enc(id)}`);
  /** A page of runs, newest first (without params, tags and metrics), and how many there are in all. */
  listRuns = (page: { limit?: number; offset?: number } = {}) =>
    this.json<{ runs: Omit<Run, 'params' | 'tags' | 'metrics'>[]; total: number }>(
      'GET',
      `/api/v1/runs${queryString(page)}`,
    );
  lineage = (node: string, depth?: number) =>
    this.json<{ node: string; upstream: LineageGraph; downstream: LineageGraph }>(
      'GET',
      `/api/v1/lineage?node=${enc(node)}${depth ? `&depth=${depth}` : ''}`,
    );
  addEdge = (src: string, dst: string, relation: 'input' | 'output' | 'derived') =>
    this.json<unknown>('POST', '/api/v1/lineage/edges', { src, dst, relation });
  audit = async (query: { target?: string; after?: number; limit?: number } = {}) =>
    (
      await this.json<{ entries: AuditEntry[] }>(
        'GET',
        `/api/v1/audit?${new URLSearchParams(
          Object.entries(query)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]): [string, string] => [k, String(v)]),
        )}`,
      )
    ).entries;
  createToken = (user: string, scopes: string[], description?: string) =>
    this.json<{ id: string; token: string; scopes: string[] }>('POST', '/api/v1/tokens', {
      user,
      scopes,
      ...(description && { description }),
    });
  listTokens = async () =>
    (await this.json<{ tokens: (TokenInfo & { scopes: string[] })[] }>('GET', '/api/v1/tokens')).tokens;
  revokeToken = (id: string) => this.json<void>('DELETE', `/api/v1/tokens/${enc(id)}`);

  // --- transfers ---

  async blobExists(sha256: string): Promise<boolean> {
    const response = await this.request('HEAD', `/api/v1/blobs/sha256:${sha256}`, { ok: [404] });
    return response.status !== 404;
  }

  /** Uploads one file: whole when small, else in resumable chunks that survive dropped connections. */
  async uploadFile(file: LocalFile, onProgress?: Progress, done = 0, total = file.size): Promise<void> {
    if (file.size <= this.chunkBytes) {
      await this.sendFile('PUT', `/api/v1/blobs/sha256:${file.sha256}`, file.absolute, 0, file.size - 1, {});
      onProgress?.(done + file.size, total, file.path);
      return;
    }
    const { id } = (await (await this.request('POST', '/api/v1/uploads')).json()) as { id: string };
    let offset = 0;
    let failures = 0;
    while (offset < file.size) {
      const end = Math.min(file.size, offset + this.chunkBytes) - 1;
      try {
        const answer = await this.sendFile('PATCH', `/api/v1/uploads/${id}`, file.absolute, offset, end, {
          'upload-offset': String(offset),
        });
        offset = (JSON.parse(answer) as { offset: number }).offset;
        onProgress?.(done + offset, total, file.path);
      } catch (error) {
        if (
          ++failures > MAX_RETRIES ||
          (error instanceof RemoteRegistryError &&
            error.http < 500 &&
            error.code !== 'FERRY_REGISTRY_CONFLICT')
        )
          throw error;
        await sleep(200 * 2 ** failures);
        offset = ((await (await this.request('GET', `/api/v1/uploads/${id}`)).json()) as { offset: number })
          .offset;
      }
    }
    await this.request('PUT', `/api/v1/uploads/${id}?digest=sha256:${file.sha256}&size=${file.size}`);
  }

  /**
   * Sends bytes `start..end` of a file as a request body through node:http, which streams a file
   * several times faster than fetch with a web-stream body; answers the response text.
   */
  private sendFile(
    method: string,
    path: string,
    absolute: string,
    start: number,
    end: number,
    headers: Record<string, string>,
  ): Promise<string> {
    const length = Math.max(0, end - start + 1);
    return this.sendStream(method, path, { ...headers, 'content-length': String(length) }, (request) =>
      length === 0 ? Promise.resolve() : sendFileRange(request, absolute, start, end),
    );
  }

  /**
   * Sends a request whose body `write` produces (and ends) through node:http, which streams
   * several times faster than fetch with a web-stream body; answers the response text.
   */
  async sendStream(
    method: string,
    path: string,
    headers: Record<string, string>,
    write: (request: ClientRequest) => Promise<void>,
  ): Promise<string> {
    const url = new URL(`${this.url}${path}`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let status = 0;
    let text = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const request = send(
          url,
          {
            method,
            headers: {
              ...headers,
              'content-type': 'application/octet-stream',
              ...(this.token && { authorization: `Bearer ${this.token}` }),
            },
          },
          (response) => {
            status = response.statusCode ?? 0;
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', resolve);
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        write(request).then(
          () => request.end(),
          (error) => {
            request.destroy(error);
            reject(error);
          },
        );
      });
    } catch (error) {
      if (status >= 400) throw errorAnswer(method, url.toString(), status, text);
      throw registryError(
        'FERRY_REGISTRY_BACKEND',
        { backend: `registry ${this.url}`, reason: (error as Error).message },
        error,
      );
    }
    if (status >= 200 && status < 300) return text;
    throw errorAnswer(method, url.toString(), status, text);
  }

  /** A streaming GET through node:http (faster than fetch for big bodies); non-2xx answers throw. */
  async openDownload(path: string, headers: Record<string, string>): Promise<IncomingMessage> {
    const url = new URL(`${this.url}${path}`);
    const get = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = get(
        url,
        { headers: { ...headers, ...(this.token && { authorization: `Bearer ${this.token}` }) } },
        resolve,
      );
      request.on('error', (error) =>
        reject(
          registryError(
            'FERRY_REGISTRY_BACKEND',
            { backend: `registry ${this.url}`, reason: error.message },
            error,
          ),
        ),
      );
      request.end();
    });
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    let text = '';
    for await (const chunk of response) text += chunk;
    throw errorAnswer('GET', url.toString(), status, text);
  }

  /**
   * Pushes a file or folder as a new version: chunk and hash (sending the chunks the registry
   * lacks as they are hashed, issue #20), declare, send what is left and commit each file's
   * manifest, commit the version, alias.
   */
  async push(localPath: string, options: PushOptions): Promise<ModelVersion> {
    const listed = await listLocal(localPath);
    const total = listed.reduce((n, f) => n + f.size, 0);
    // Chunks the registry lacks go up while the files are still being hashed (chunk-local.ts).
    const early = new Map<string, TransferBytes>();
    const files = await chunkLocal(listed, {
      client: this,
      onBytes: (path, bytes) => {
        early.set(path, bytes);
        const sum = { sent: 0, skipped: 0 };
        for (const b of early.values()) {
          sum.sent += b.sent;
          sum.skipped += b.skipped;
        }
        options.onProgress?.(sum.sent + sum.skipped, total, path, sum);
      },
    });
    try {
      await this.getModel(options.model);
    } catch (error) {
      if (!(error instanceof RemoteRegistryError) || error.http !== 404) throw error;
      await this.createModel({
        name: options.model,
        ...(options.visibility && { visibility: options.visibility }),
      }).catch((e) => {
        if (!(e instanceof RemoteRegistryError && e.code === 'FERRY_REGISTRY_CONFLICT')) throw e;
      });
    }
    const { version, missing } = await this.createVersion(options.model, {
      files: files.map(({ path, sha256, size }) => ({ path, sha256, size })),
      idempotencyKey: options.idempotencyKey ?? `files-${versionDigest(files)}`,
      ...(options.description && { description: options.description }),
      ...(options.sourceUri && { sourceUri: options.sourceUri }),
      ...(options.runId && { runId: options.runId }),
      ...(options.derivedFrom && options.derivedFrom.length > 0 && { derivedFrom: options.derivedFrom }),
    });
    let committed = version;
    if (version.status !== 'ready') {
      await uploadMissing(this, files, missing, options.onProgress);
      committed = await this.commitVersion(options.model, version.version);
    }
    if (options.alias) {
      await this.setAlias(options.model, options.alias, committed.version);
      committed = await this.getVersion(options.model, committed.version);
    }
    return committed;
  }

  /**
   * Downloads a version into a folder: each file to `.partial` (resumed with Range after a dropped
   * connection), verified against its sha256, then renamed. Files already there with the right
   * digest are kept.
   */
  async pull(
    uri: string,
    dir: string,
    options: {
      force?: boolean;
      onProgress?: Progress;
      /** Where chunks of earlier pulls are kept (default: the user's cache folder); false: no cache. */
      cache?: ChunkCache | false;
    } = {},
  ): Promise<ModelVersion> {
    const { model, version: number } = await this.resolve(uri);
    const version = await this.getVersion(model, number);
    if (version.scan === 'unsafe' && !options.force)
      throw new RemoteRegistryError(
        'FERRY_REGISTRY_UNSAFE',
        `version ${model}/${number} is marked unsafe by the scan (${version.scanDetail}); pass --allow-unsafe (ferry pull; ?force=true over HTTP) to use it`,
        422,
      );
    // error/unknown/invalid: nothing showed the files safe; refused like unsafe (scan-gate.ts on the server)
    if (version.scan !== 'safe' && !options.force)
      throw new RemoteRegistryError(
        'FERRY_REGISTRY_UNVERIFIED',
        `version ${model}/${number} was not shown safe by the scan (${version.scan}: ${version.scanDetail ?? 'no file was judged'}); pass --allow-unsafe (ferry pull; ?force=true over HTTP) to use it`,
        422,
      );
    const total = version.files.reduce((sum, f) => sum + f.size, 0);
    const cache = options.cache === false ? undefined : (options.cache ?? new ChunkCache());
    const force = options.force === true;
    const bytes: TransferBytes = { sent: 0, skipped: 0 };
    let done = 0;
    for (const file of version.files) {
      const target = join(dir, ...checkFilePath(file.path).split('/'));
      if ((await sha256File(target).catch(() => undefined)) !== file.sha256) {
        await mkdir(dirname(target), { recursive: true });
        const before = { ...bytes };
        const where = { model, version: number, path: file.path, force };
        // Only the chunks not cached travel; a file stored whole (or a cache that fails the
        // file's sha256) falls back to the whole-file download, which verifies it too.
        const chunked = cache
          ? await downloadChunked(this, where, file, `${target}.partial`, cache, (b) => {
              bytes.sent = before.sent + b.sent;
              bytes.skipped = before.skipped + b.skipped;
              options.onProgress?.(done + b.sent + b.skipped, total, file.path, { ...bytes });
            }).catch((error) => {
              if (error instanceof RemoteRegistryError && error.http !== 404) throw error;
              return undefined;
            })
          : undefined;
        if (!chunked) {
          Object.assign(bytes, before);
          await downloadWholeFile(this, model, number, file, `${target}.partial`, force, (n) =>
            options.onProgress?.(done + n, total, file.path, {
              sent: before.sent + n,
              skipped: before.skipped,
            }),
          );
          bytes.sent += file.size;
        }
        await rename(`${target}.partial`, target);
      } else bytes.skipped += file.size;
      done += file.size;
      options.onProgress?.(done, total, file.path, { ...bytes });
    }
    await cache?.prune().catch(() => undefined);
    return version;
  }
}

function isAsyncIterable(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    (Symbol.asyncIterator in value || value instanceof ReadableStream)
  );
}

/**
 * The error for a non-2xx answer: the registry's own `{"error": {code, message}}` as a
 * RemoteRegistryError, anything else (a proxy's page, an empty body) as FERRY_REGISTRY_HTTP.
 */
function errorAnswer(method: string, url: string, status: number, text: string): Error {
  let parsed: { error?: { code?: string; message?: string } } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed?.error?.code)
    return new RemoteRegistryError(parsed.error.code, parsed.error.message ?? '', status);
  return registryError('FERRY_REGISTRY_HTTP', { method, url, status, reason: text.slice(0, 200) });
}
