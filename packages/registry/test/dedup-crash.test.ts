import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';
import { openBackends } from '../src/open.js';
import type { BlobStore } from '../src/store/blob-store.js';
import type { RegistryDb } from '../src/store/registry-db.js';
import { BACKENDS, type Backend } from './harness.helper.js';
import { type FerryProcess, spawnRegistry } from './processes.helper.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
const BIN = fileURLToPath(new URL('../../cli/bin/ferry.js', import.meta.url));

/**
 * kill -9 during a push (the client, then the server) and during garbage collection, with real
 * processes: afterwards no version is half visible, every chunk a manifest names is stored, and
 * the next push or collection finishes the work (issue #20).
 */
describe.each(BACKENDS)('chunk store crash safety on $name', (spec) => {
  let backend: Backend | undefined;
  let server: FerryProcess | undefined;
  let work: string;
  let db: RegistryDb;
  let raw: BlobStore;

  const start = async () => {
    await server?.stop();
    server = await spawnRegistry([...backend!.cliArgs, '--auth', 'none']);
    return new RegistryClient({ url: server.url });
  };

  /**
   * Every chunk of every manifest is live and its stored bytes (in its pack, or its own blob) hash
   * to its name; every file that is one pack is exactly that pack; no ready version lacks a file.
   */
  const checkIntegrity = async () => {
    const rows = await db.store.query(
      'SELECT DISTINCT m.chunk_sha256, m.size, c.state, c.pack, c.pack_offset FROM manifest_chunks m LEFT JOIN chunks c ON c.sha256 = m.chunk_sha256',
    );
    for (const r of rows) {
      expect(r.state, String(r.chunk_sha256)).toBe('live');
      const size = Number(r.size);
      const bytes =
        r.pack == null
          ? await raw.get(String(r.chunk_sha256))
          : await raw.packs!.get(String(r.pack), {
              start: Number(r.pack_offset),
              end: Number(r.pack_offset) + size - 1,
            });
      const hash = createHash('sha256');
      let n = 0;
      for await (const piece of bytes as AsyncIterable<Buffer>) {
        hash.update(piece);
        n += piece.length;
      }
      expect(n, String(r.chunk_sha256)).toBe(size);
      expect(hash.digest('hex')).toBe(String(r.chunk_sha256));
    }
    for (const f of await db.store.query(
      'SELECT sha256, size, pack FROM file_manifests WHERE pack IS NOT NULL',
    )) {
      const file = await readFile(raw.packs!.localPath(String(f.pack)));
      expect(file.length).toBeGreaterThanOrEqual(Number(f.size));
      expect(
        createHash('sha256')
          .update(file.subarray(0, Number(f.size)))
          .digest('hex'),
      ).toBe(String(f.sha256));
    }
    const ready = await db.store.query(
      "SELECT f.sha256 FROM version_files f JOIN versions v ON v.model_id = f.model_id AND v.version = f.version WHERE v.status = 'ready' AND NOT EXISTS (SELECT 1 FROM file_manifests m WHERE m.sha256 = f.sha256)",
    );
    expect(ready).toEqual([]);
    return rows.length;
  };

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    work = await mkdtemp(join(tmpdir(), 'ferry-dedup-crash-'));
    ({ db, blobs: raw } = await openBackends(backend.serveArgs));
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await raw?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('kill -9 of ferry push, then of the server mid-push: nothing half visible, the next push sends only what is missing', async ({
    skip,
  }) => {
    if (!backend) skip();
    let client = await start();
    // Unknown bytes: content-defined chunks, several hundred of them. Big enough that the kills
    // below land mid-push: chunk rows appear a pack step (64 chunks) at a time, and a push of a
    // few MiB can finish between two polls on a loaded machine.
    const data = randomBytes(48 * MiB);
    await writeFile(join(work, 'weights.bin'), data);
    const child = track(
      spawn(
        process.execPath,
        [BIN, 'push', join(work, 'weights.bin'), '--model', 'crash/push', '--registry', server!.url],
        {
          stdio: 'ignore',
        },
      ),
    );
    const exited = new Promise<string | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    const chunkCount = async () => Number((await db.store.query('SELECT COUNT(*) AS n FROM chunks'))[0]!.n);
    const before = await chunkCount();
    for (let i = 0; i < 600 && (await chunkCount()) <= before + 10; i++) await sleep(50);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await client.listVersions('crash/push').catch(() => [])).toEqual([]);
    await checkIntegrity();

    // The server dies in the middle of the next push's packs.
    const inProcess = client.push(join(work, 'weights.bin'), { model: 'crash/push' }).catch((e) => e);
    const stored = await chunkCount();
    for (let i = 0; i < 600 && (await chunkCount()) <= stored + 10; i++) await sleep(20);
    await server!.stop('SIGKILL');
    expect(await inProcess).toBeInstanceOf(Error);
    client = await start();
    // Packs go before the version is declared (the model may not exist yet): no version either way.
    expect(await client.listVersions('crash/push').catch(() => [])).toEqual([]);
    await checkIntegrity();

    let last: TransferBytes | undefined;
    const version = await client.push(join(work, 'weights.bin'), {
      model: 'crash/push',
      onProgress: (_d, _t, _p, b) => (last = b ?? last),
    });
    expect(version.status).toBe('ready');
    expect(last!.skipped).toBeGreaterThan(0);
    expect(last!.sent + last!.skipped).toBe(data.length);
    await client.pull('models:/crash/push/1', join(work, 'out'), { cache: false, force: true });
    expect((await readFile(join(work, 'out', 'weights.bin'))).equals(data)).toBe(true);
    await checkIntegrity();
  }, 240_000);

  it('kill -9 of the server during garbage collection: referenced chunks stay, the next run finishes', async ({
    skip,
  }) => {
    if (!backend) skip();
    let client = await start();
    const shared = randomBytes(6 * MiB);
    await writeFile(join(work, 'a.bin'), Buffer.concat([randomBytes(8 * MiB), shared]));
    await writeFile(join(work, 'b.bin'), Buffer.concat([randomBytes(100_000), shared]));
    await client.push(join(work, 'a.bin'), { model: 'crash/gc' });
    await client.push(join(work, 'b.bin'), { model: 'crash/gc' });
    await client.deleteVersion('crash/gc', 1);
    const gc = client.request('POST', '/api/v1/admin/gc?graceSeconds=0').catch((e) => e);
    // Kill once the collector has claimed or removed something, if it gets that far before the kill.
    for (let i = 0; i < 200; i++) {
      const n = await db.store.query("SELECT COUNT(*) AS n FROM chunks WHERE state = 'deleting'");
      if (Number(n[0]!.n) > 0) break;
      await sleep(5);
    }
    await server!.stop('SIGKILL');
    await gc;
    await checkIntegrity();
    client = await start();
    await checkIntegrity();
    const again = (await (await client.request('POST', '/api/v1/admin/gc?graceSeconds=0')).json()) as {
      chunks: number;
    };
    expect(again.chunks).toBeGreaterThanOrEqual(0);
    const left = await db.store.query(
      "SELECT COUNT(*) AS n FROM chunks c WHERE c.state = 'deleting' OR NOT EXISTS (SELECT 1 FROM manifest_chunks m WHERE m.chunk_sha256 = c.sha256)",
    );
    expect(Number(left[0]!.n)).toBe(0);
    await client.pull('models:/crash/gc/2', join(work, 'gc-out'), { cache: false, force: true });
    expect((await readFile(join(work, 'gc-out', 'b.bin'))).equals(await readFile(join(work, 'b.bin')))).toBe(
      true,
    );
    await checkIntegrity();
  }, 240_000);
});
