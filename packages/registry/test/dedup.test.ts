import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkCache, RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';
import { chunkPack, packFiles } from './pack-files.helper.js';
import { writeModel } from './safetensors-model.helper.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

/**
 * Chunked push and pull on both backends (issue #20): only changed tensors travel and are stored,
 * the ordinary download routes serve whole files from chunks with ranges, whole-file uploads are
 * chunked by the server, bad manifests are refused, and the collector frees only what no version uses.
 */
describe.each(BACKENDS)('dedup on $name', (spec) => {
  let backend: Backend | undefined;
  let server: (RegistryServer & { url: string }) | undefined;
  let client: RegistryClient;
  let work: string;
  let v1: Buffer[];
  let v2: Buffer[];

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend, { auth: 'none' });
    client = new RegistryClient({ url: server.url });
    work = await mkdtemp(join(tmpdir(), 'ferry-dedup-'));
    v1 = Array.from({ length: 10 }, (_, i) => randomBytes(i % 2 ? 1.5 * MiB : 4096));
    // The fine-tune: the last large tensor changes, nothing else.
    v2 = v1.map((t, i) => (i === 9 ? randomBytes(t.length) : t));
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const push = async (dir: string, name: string) => {
    let last: TransferBytes | undefined;
    const version = await client.push(dir, {
      model: name,
      onProgress: (_d, _t, _p, b) => (last = b ?? last),
    });
    return { version, bytes: last! };
  };

  it('sends and fetches only the changed tensor of a fine-tune', async ({ skip }) => {
    if (!backend) skip();
    const a = await writeModel(join(work, 'v1.safetensors'), v1);
    await writeModel(join(work, 'v2.safetensors'), v2);
    const first = await push(join(work, 'v1.safetensors'), 'org/ft');
    expect(first.bytes.sent).toBe(a.length);
    const cache = new ChunkCache(join(work, 'cache'));
    let fetched: TransferBytes | undefined;
    await client.pull('models:/org/ft/1', join(work, 'p1'), {
      cache,
      force: true,
      onProgress: (_d, _t, _p, b) => (fetched = b),
    });
    expect((await readFile(join(work, 'p1', 'v1.safetensors'))).equals(a)).toBe(true);
    expect(fetched!.sent).toBe(a.length);

    const b = await readFile(join(work, 'v2.safetensors'));
    const second = await push(join(work, 'v2.safetensors'), 'org/ft');
    expect(second.version.version).toBe(2);
    // One 1.5 MiB tensor and the chunk holding the header.
    expect(second.bytes.sent).toBeLessThan(1.5 * MiB + 200_000);
    expect(second.bytes.sent + second.bytes.skipped).toBe(b.length);

    await client.pull('models:/org/ft/2', join(work, 'p2'), {
      cache,
      force: true,
      onProgress: (_d, _t, _p, x) => (fetched = x),
    });
    expect((await readFile(join(work, 'p2', 'v2.safetensors'))).equals(b)).toBe(true);
    expect(fetched!.sent).toBeLessThan(1.5 * MiB + 200_000);
    // The cache holds both pulled files, each with its chunks.
    const entries = await cache.list();
    expect(entries.length).toBe(2);
    expect(entries.reduce((n, e) => n + e.chunks, 0)).toBeGreaterThan(5);

    // What v2 shares with v1 (its parent: the previous version) and with any version.
    const sharing = await client.versionSharing('org/ft', 2);
    expect(sharing.parent).toBe('models:/org/ft/1');
    expect(sharing.size).toBe(b.length);
    expect(sharing.bytes).toBe(b.length);
    expect(sharing.sharedWithParent).toBeGreaterThan(b.length - 1.5 * MiB - 200_000);
    expect(sharing.sharedWithAny).toBe(sharing.sharedWithParent);
    expect((await client.versionSharing('org/ft', 1)).parent).toBeNull();
  });

  it('pulls a file whose chunks repeat, then pulls it again from the cache alone', async ({ skip }) => {
    if (!backend) skip();
    // The same 1 MiB block eight times: content-defined chunks repeat within the file.
    const block = randomBytes(MiB);
    const bytes = Buffer.concat(Array.from({ length: 8 }, () => block));
    await writeFile(join(work, 'repeat.bin'), bytes);
    const pushed = await push(join(work, 'repeat.bin'), 'org/repeat');
    expect(pushed.bytes.sent).toBeLessThan(2 * MiB);
    const cache = new ChunkCache(join(work, 'cache-repeat'));
    let fetched: TransferBytes | undefined;
    const progress = (_d: number, _t: number, _p: string, b?: TransferBytes) => {
      fetched = b;
    };
    await client.pull('models:/org/repeat/1', join(work, 'r1'), { cache, force: true, onProgress: progress });
    expect((await readFile(join(work, 'r1', 'repeat.bin'))).equals(bytes)).toBe(true);
    expect(fetched!.sent).toBeLessThan(2 * MiB);
    await client.pull('models:/org/repeat/1', join(work, 'r2'), { cache, force: true, onProgress: progress });
    expect((await readFile(join(work, 'r2', 'repeat.bin'))).equals(bytes)).toBe(true);
    expect(fetched).toEqual({ sent: 0, skipped: bytes.length });
  });

  it('serves a chunked file whole and by range on the ordinary download route', async ({ skip }) => {
    if (!backend) skip();
    const b = await readFile(join(work, 'v2.safetensors'));
    const url = '/api/v1/models/org%2Fft/versions/2/files/v2.safetensors?force=true';
    const whole = Buffer.from(await (await client.request('GET', url)).arrayBuffer());
    expect(sha(whole)).toBe(sha(b));
    const start = 1_000_000;
    const end = 3 * MiB + 17; // across chunk boundaries
    const part = await client.request('GET', url, { headers: { range: `bytes=${start}-${end}` } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(b.subarray(start, end + 1))).toBe(true);
  });

  it('chunks a whole-file upload on the server, so a later chunked push of it sends nothing', async ({
    skip,
  }) => {
    if (!backend) skip();
    const bytes = Buffer.concat([randomBytes(300_000), v1[1]!]);
    const digest = sha(bytes);
    const put = await client.request('PUT', `/api/v1/blobs/sha256:${digest}`, {
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    await writeFile(join(work, 'blob.bin'), bytes);
    const pushed = await push(join(work, 'blob.bin'), 'org/blob');
    expect(pushed.bytes.sent).toBe(0);
    expect(pushed.bytes.skipped).toBe(bytes.length);
  });

  it('refuses a manifest whose chunks are missing or do not hash to the file', async ({ skip }) => {
    if (!backend) skip();
    const chunk = randomBytes(10_000);
    const missing = await client
      .request('PUT', `/api/v1/files/sha256:${sha(chunk)}`, {
        json: { size: 10_000, chunks: [sha(chunk)], sizes: [10_000] },
      })
      .catch((e) => e);
    expect(missing.code).toBe('FERRY_REGISTRY_CHUNKS_MISSING');
    // A stored chunk named as a file it is not.
    await client.request('POST', '/api/v1/chunks', {
      body: chunkPack([chunk]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const liar = sha(Buffer.from('something else'));
    const wrong = await client
      .request('PUT', `/api/v1/files/sha256:${liar}`, {
        json: { size: 10_000, chunks: [sha(chunk)], sizes: [10_000] },
      })
      .catch((e) => e);
    expect(wrong.code).toBe('FERRY_REGISTRY_DIGEST_MISMATCH');
    // A pack whose chunk does not match its name stores nothing.
    const bad = await client
      .request('POST', '/api/v1/chunks', {
        body: chunkPack([chunk]).fill(7, 0, 32),
        headers: { 'content-type': 'application/octet-stream' },
      })
      .catch((e) => e);
    expect(bad.code).toBe('FERRY_REGISTRY_DIGEST_MISMATCH');
  });

  it('never collects an uploaded chunk within its lease; after it runs out, the chunk is asked for again', async ({
    skip,
  }) => {
    if (!backend) skip();
    const chunk = randomBytes(50_000);
    await client.request('POST', '/api/v1/chunks', {
      body: chunkPack([chunk]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const missing = async () =>
      (
        (await (
          await client.request('POST', '/api/v1/chunks/missing', { json: { chunks: [sha(chunk)] } })
        ).json()) as {
          missing: string[];
        }
      ).missing;
    // Not in any manifest yet (a push between upload and commit), but leased: the default grace keeps it.
    await client.request('POST', '/api/v1/admin/gc');
    expect(await missing()).toEqual([]);
    await client.request('POST', '/api/v1/admin/gc?graceSeconds=0');
    expect(await missing()).toEqual([sha(chunk)]);
    // A push that had been told "present" re-sends it when its commit is refused.
    await writeFile(join(work, 'one.bin'), chunk);
    const pushed = await push(join(work, 'one.bin'), 'org/lease');
    expect(pushed.version.status).toBe('ready');
  });

  it('frees only the chunks no version references once versions are deleted', async ({ skip }) => {
    if (!backend) skip();
    const gc = async () =>
      (await (await client.request('POST', '/api/v1/admin/gc?graceSeconds=0')).json()) as {
        chunks: number;
        bytes: number;
        manifests: number;
        released: number;
      };
    await gc(); // what the earlier tests left unreferenced
    await client.deleteVersion('org/ft', 1);
    const freed = await gc();
    expect(freed.manifests).toBe(1);
    // v1's own tensor 9 (1.5 MiB) and its header chunk; every shared chunk stays.
    expect(freed.bytes).toBeGreaterThanOrEqual(1.5 * MiB);
    expect(freed.bytes).toBeLessThan(1.5 * MiB + 200_000);
    // v1 was pushed in one go: one pack, which v2 still uses. The dead tensor's blocks go back to
    // the file system as a hole (folder store on Linux); an OCI store deletes the chunk's blob.
    expect(freed.released).toBe(backend!.serveArgs.blobs === undefined ? 1.5 * MiB : 0);
    const b = await readFile(join(work, 'v2.safetensors'));
    await client.pull('models:/org/ft/2', join(work, 'p3'), { cache: false, force: true });
    expect((await readFile(join(work, 'p3', 'v2.safetensors'))).equals(b)).toBe(true);
    expect((await gc()).chunks).toBe(0);
  });

  it('keeps a file pushed in one go as one pack, and deletes the pack once nothing in it is used', async ({
    skip,
  }) => {
    if (!backend) skip();
    const folder = backend!.serveArgs.blobs === undefined;
    const before = new Set(await packFiles(backend!));
    const bytes = randomBytes(3 * MiB);
    await writeFile(join(work, 'gone.bin'), bytes);
    await push(join(work, 'gone.bin'), 'org/gone');
    const added = (await packFiles(backend!)).filter((f) => !before.has(f));
    if (folder) {
      // The whole file, back to back in one pack: inspection links it, downloads read it as one range.
      expect(added).toHaveLength(1);
      expect((await readFile(added[0]!)).equals(bytes)).toBe(true);
    }
    const url = '/api/v1/models/org%2Fgone/versions/1/files/gone.bin?force=true';
    const part = await client.request('GET', url, { headers: { range: 'bytes=100-2000000' } });
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 2_000_001))).toBe(true);
    await client.deleteVersion('org/gone', 1);
    const freed = (await (await client.request('POST', '/api/v1/admin/gc?graceSeconds=0')).json()) as {
      chunks: number;
      bytes: number;
      packs: number;
    };
    expect(freed.bytes).toBe(bytes.length);
    expect(freed.packs).toBe(folder ? 1 : 0);
    if (folder) expect(new Set(await packFiles(backend!))).toEqual(before);
    const b = await readFile(join(work, 'v2.safetensors'));
    await client.pull('models:/org/ft/2', join(work, 'p4'), { cache: false, force: true });
    expect((await readFile(join(work, 'p4', 'v2.safetensors'))).equals(b)).toBe(true);
  });

  it('appends the packs of a file sent in order to one pack that is the file, chunks it already had included', async ({
    skip,
  }) => {
    if (!backend) skip();
    const folder = backend!.serveArgs.blobs === undefined;
    const parts = [randomBytes(300_000), randomBytes(200_000), randomBytes(100_000)];
    const file = Buffer.concat(parts);
    const send = (chunks: Buffer[], headers: Record<string, string> = {}) =>
      client.request('POST', '/api/v1/chunks', {
        body: chunkPack(chunks),
        headers: { 'content-type': 'application/octet-stream', ...headers },
      });
    // The registry already holds the middle chunk (another file's); the client sends it anyway, in order.
    await send([parts[1]!]);
    const before = new Set(await packFiles(backend!));
    const fileHeader = { 'x-ferry-file': `sha256:${sha(file)}` };
    await send(parts.slice(0, 2), { ...fileHeader, 'x-ferry-file-offset': '0' });
    await send(parts.slice(2), { ...fileHeader, 'x-ferry-file-offset': '500000' });
    const put = await client.request('PUT', `/api/v1/files/sha256:${sha(file)}`, {
      json: { size: file.length, chunks: parts.map(sha), sizes: parts.map((p) => p.length) },
    });
    expect(put.status).toBe(201);
    if (folder) {
      const added = (await packFiles(backend!)).filter((f) => !before.has(f));
      expect(added).toHaveLength(1);
      expect((await readFile(added[0]!)).equals(file)).toBe(true);
    }
    const head = await client.request('HEAD', `/api/v1/blobs/sha256:${sha(file)}`);
    expect(Number(head.headers.get('content-length'))).toBe(file.length);
  });
  it('takes packs named by an upload id (sent before the sha256 is known) as one pack, and refuses a commit of other content', async ({
    skip,
  }) => {
    if (!backend) skip();
    const folder = backend!.serveArgs.blobs === undefined;
    const send = (chunks: Buffer[], upload: string, offset: number) =>
      client.request('POST', '/api/v1/chunks', {
        body: chunkPack(chunks),
        headers: {
          'content-type': 'application/octet-stream',
          'x-ferry-upload': upload,
          'x-ferry-file-offset': String(offset),
        },
      });
    const commit = (file: Buffer, parts: Buffer[], upload: string) =>
      client.request('PUT', `/api/v1/files/sha256:${sha(file)}`, {
        json: { size: file.length, chunks: parts.map(sha), sizes: parts.map((p) => p.length) },
        headers: { 'x-ferry-upload': upload },
      });
    const id = () => randomBytes(16).toString('hex');

    // Two packs of one upload, in order: the commit names the id and the pack is the file.
    const parts = [randomBytes(300_000), randomBytes(200_000), randomBytes(100_000)];
    const file = Buffer.concat(parts);
    const before = new Set(await packFiles(backend!));
    const upload = id();
    await send(parts.slice(0, 2), upload, 0);
    await send(parts.slice(2), upload, 500_000);
    expect((await commit(file, parts, upload)).status).toBe(201);
    const added = (await packFiles(backend!)).filter((f) => !before.has(f));
    if (folder) {
      expect(added).toHaveLength(1);
      expect((await readFile(added[0]!)).equals(file)).toBe(true);
    }
    const got = await client.request('HEAD', `/api/v1/blobs/sha256:${sha(file)}`);
    expect(Number(got.headers.get('content-length'))).toBe(file.length);

    // Another upload's chunks committed as a file of other content: refused, nothing committed.
    const other = [randomBytes(150_000), randomBytes(50_000)];
    const forged = id();
    await send(other, forged, 0);
    const claimed = Buffer.concat([other[0]!, randomBytes(50_000)]);
    const error = await client
      .request('PUT', `/api/v1/files/sha256:${sha(claimed)}`, {
        json: { size: claimed.length, chunks: other.map(sha), sizes: other.map((p) => p.length) },
        headers: { 'x-ferry-upload': forged },
      })
      .catch((e) => e);
    expect(error.code).toBe('FERRY_REGISTRY_DIGEST_MISMATCH');
    expect(error.message).toContain(`upload ${forged}`);
    const head = await client.request('HEAD', `/api/v1/blobs/sha256:${sha(claimed)}`, { ok: [404] });
    expect(head.status).toBe(404);

    // A genuine file committed under an upload id whose packs were other chunks: verified by reading
    // back (so accepted), and not given the other upload's pack.
    const third = [randomBytes(120_000)];
    const stray = id();
    await send(other, stray, 0);
    await client.request('POST', '/api/v1/chunks', {
      body: chunkPack(third),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect((await commit(third[0]!, third, stray)).status).toBe(201);
    const held = await client.request('HEAD', `/api/v1/blobs/sha256:${sha(third[0]!)}`);
    expect(Number(held.headers.get('content-length'))).toBe(third[0]!.length);

    // An upload id that is not 128 bits of hex is refused, naming the header.
    const bad = await client
      .request('POST', '/api/v1/chunks', {
        body: chunkPack(third),
        headers: {
          'content-type': 'application/octet-stream',
          'x-ferry-upload': 'file-1',
          'x-ferry-file-offset': '0',
        },
      })
      .catch((e) => e);
    expect(bad.code).toBe('FERRY_REGISTRY_BAD_REQUEST');
    expect(bad.message).toContain('x-ferry-upload header');
  });
});
