import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkCache, RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';
import { writeModel } from './safetensors-model.helper.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The client's chunk cache (issue #20): a pulled file enters it by hard link, so it outlives the
 * pulled copy, and every chunk read from it is hashed: a cached file written through in place
 * gives its changed chunk from the registry, never from the cache. The cache lives on the client,
 * so one backend is enough (the server side of these transfers is dedup.test.ts's, on both).
 */
describe.each(BACKENDS.slice(0, 1))('the chunk cache on $name', (spec) => {
  let backend: Backend | undefined;
  let server: (RegistryServer & { url: string }) | undefined;
  let client: RegistryClient;
  let work: string;
  let v1: Buffer;
  let v2: Buffer;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend, { auth: 'none' });
    client = new RegistryClient({ url: server.url });
    work = await mkdtemp(join(tmpdir(), 'ferry-dedup-cache-'));
    const tensors = Array.from({ length: 6 }, (_, i) => randomBytes(i % 2 ? 1.5 * MiB : 4096));
    v1 = await writeModel(join(work, 'm.safetensors'), tensors);
    await client.push(join(work, 'm.safetensors'), { model: 'org/c' });
    // The fine-tune: the last large tensor changes.
    v2 = await writeModel(
      join(work, 'm.safetensors'),
      tensors.map((t, i) => (i === 5 ? randomBytes(t.length) : t)),
    );
    await client.push(join(work, 'm.safetensors'), { model: 'org/c' });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const pull = async (version: number, dir: string, cache: ChunkCache) => {
    let bytes: TransferBytes | undefined;
    await client.pull(`models:/org/c/${version}`, join(work, dir), {
      cache,
      force: true,
      onProgress: (_d, _t, _p, b) => (bytes = b ?? bytes),
    });
    return { bytes: bytes!, file: await readFile(join(work, dir, 'm.safetensors')) };
  };

  it('keeps a pulled file by hard link, so a later pull fetches only the changed chunks after the copy is deleted', async ({
    skip,
  }) => {
    if (!backend) skip();
    const cache = new ChunkCache(join(work, 'cache-a'));
    const first = await pull(1, 'a1', cache);
    expect(first.file.equals(v1)).toBe(true);
    expect(first.bytes).toEqual({ sent: v1.length, skipped: 0 });
    // Nothing written twice: the entry is the pulled file itself.
    expect(await cache.list()).toMatchObject([
      { kind: 'file', sha256: sha(v1), size: v1.length, linked: true },
    ]);
    await rm(join(work, 'a1'), { recursive: true });
    expect(await cache.list()).toMatchObject([{ kind: 'file', sha256: sha(v1), linked: false }]);

    const second = await pull(2, 'a2', cache);
    expect(second.file.equals(v2)).toBe(true);
    // The changed 1.5 MiB tensor and the chunk holding the header.
    expect(second.bytes.sent).toBeLessThan(1.5 * MiB + 200_000);
    expect(second.bytes.sent + second.bytes.skipped).toBe(v2.length);
    expect((await cache.list()).map((e) => e.sha256).sort()).toEqual([sha(v1), sha(v2)].sort());
  });

  it('fetches a cached chunk that no longer matches its sha256 instead of using it, and drops the entry', async ({
    skip,
  }) => {
    if (!backend) skip();
    const cache = new ChunkCache(join(work, 'cache-b'));
    await pull(1, 'b1', cache);
    // Written through in place (as an editor saving over the file would): the cache's link sees it.
    const headerLength = Number(v1.readBigUInt64LE(0));
    const insideLayer1 = 8 + headerLength + 4096 + 1000; // layer.1: 1.5 MiB, one chunk
    const handle = await open(join(work, 'b1', 'm.safetensors'), 'r+');
    await handle.write(Buffer.from('not the weights'), 0, 15, insideLayer1);
    await handle.close();

    const again = await pull(1, 'b2', cache);
    expect(again.file.equals(v1)).toBe(true);
    // Exactly the changed chunk travelled; every other chunk still came from the cache.
    expect(again.bytes).toEqual({ sent: 1.5 * MiB, skipped: v1.length - 1.5 * MiB });
    // The entry now holds the verified bytes of this pull, not the ones written over.
    expect((await readFile(cache.filePath(sha(v1)))).equals(v1)).toBe(true);
    expect(await cache.list()).toHaveLength(1);
  });

  it('downloads the file whole and drops the entry when an entry that looks unchanged holds other bytes', async ({
    skip,
  }) => {
    if (!backend) skip();
    const cache = new ChunkCache(join(work, 'cache-d'));
    await pull(1, 'd1', cache);
    await rm(join(work, 'd1'), { recursive: true });
    // Bytes changed with the entry's record still matching (bit rot, or mtime put back exactly):
    // its chunks are used unhashed, and only the whole-file check can see it.
    const data = cache.filePath(sha(v1));
    const handle = await open(data, 'r+');
    await handle.write(Buffer.from('rot'), 0, 3, v1.length - 10);
    await handle.close();
    const info = await stat(data, { bigint: true });
    const list = JSON.parse(await readFile(`${data}.json`, 'utf8'));
    list.stamp = `${info.ino}:${info.size}:${info.mtimeNs}`;
    await writeFile(`${data}.json`, JSON.stringify(list));

    const again = await pull(1, 'd2', cache);
    expect(again.file.equals(v1)).toBe(true);
    expect(again.bytes.sent).toBe(v1.length);
    expect(await cache.list()).toEqual([]);
  });

  it('pulls through a cache folder it cannot link into (copies the file in) and serves the next pull from it', async ({
    skip,
  }) => {
    if (!backend) skip();
    // /dev/shm is another filesystem than the test's temp folder on this machine; where it is the
    // same one, the link path runs and the assertions below hold all the same.
    const shm = await mkdtemp(join('/dev/shm', 'ferry-cache-')).catch(() => undefined);
    if (!shm) skip();
    try {
      const cache = new ChunkCache(shm!);
      await pull(1, 'c1', cache);
      expect(await cache.list()).toMatchObject([{ kind: 'file', sha256: sha(v1), size: v1.length }]);
      const next = await pull(1, 'c2', cache);
      expect(next.file.equals(v1)).toBe(true);
      expect(next.bytes).toEqual({ sent: 0, skipped: v1.length });
    } finally {
      await rm(shm!, { recursive: true, force: true });
    }
  });
});
