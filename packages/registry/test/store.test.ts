import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../src/store/blob-store.js';
import { FolderBlobStore, RegistryDb } from '../src/index.js';
import { OciBlobStore } from '../src/store/oci-blob-store.js';
import {
  hasDockerRegistry,
  metadataBackends,
  type RunningOciRegistry,
  startOciRegistry,
} from './metadata-backends.helper.js';

const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
async function* chunks(...parts: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}
async function readAll(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

describe.each(metadataBackends)('metadata store: $name', (backend) => {
  let db: RegistryDb;
  let cleanup: () => Promise<void> = async () => {};
  let skip = false;

  beforeAll(async () => {
    const opened = await backend.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    db = new RegistryDb(opened.store);
    expect(await db.migrate()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
  afterAll(async () => {
    await db?.close();
    await cleanup();
  });

  it('migrations are versioned and applied once', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    expect(await db.migrate()).toEqual([]);
    const rows = await db.store.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Migration 7's indexes: one for both databases, one PostgreSQL's LIKE needs.
    const indexes = (
      await db.store.query(
        db.store.dialect === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type = 'index'"
          : 'SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()',
      )
    ).map((r) => String(r.name));
    expect(indexes).toContain('versions_model_status_version');
    if (db.store.dialect === 'postgres') expect(indexes).toContain('models_full_name_pattern');
    else expect(indexes).not.toContain('models_full_name_pattern');
  });

  it('numbers versions monotonically under concurrency, keeps pending ones invisible, audits', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    await db.models.create('alice', { name: 'team/mnist', description: 'digits', tags: { task: 'vision' } });
    const file = { path: 'model.onnx', sha256: sha('x'), size: 1 };
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.createVersion('alice', 'team/mnist', { files: [{ ...file, size: i + 1 }] }),
      ),
    );
    expect(created.map((c) => c.version.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await db.versions.list('team/mnist')).toEqual([]);
    await db.versions.finish('alice', 'team/mnist', 3, {
      status: 'ready',
      formats: { 'model.onnx': 'onnx' },
      inspect: { format: 'onnx' },
      scan: 'safe',
      scanDetail: null,
    });
    const ready = await db.versions.list('team/mnist');
    expect(ready.map((v) => v.version)).toEqual([3]);
    expect(ready[0]!.files[0]).toMatchObject({ path: 'model.onnx', sha256: sha('x'), format: 'onnx' });
    const model = await db.models.get('team/mnist');
    expect(model).toMatchObject({ namespace: 'team', latestVersion: 3, tags: { task: 'vision' } });
    const log = await db.audit.list({ target: 'models:/team/mnist/3' });
    expect(log.map((e) => e.action)).toEqual(['version.create', 'version.commit']);
    expect(log[1]).toMatchObject({
      actor: 'alice',
      before: { status: 'pending' },
      after: { status: 'ready' },
    });
  });

  it('idempotency keys return the first version; other files under the same key conflict', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    await db.models.create('bob', { name: 'idem' });
    const files = [{ path: 'a.bin', sha256: sha('a'), size: 1 }];
    const first = await db.createVersion('bob', 'idem', { files, idempotencyKey: 'k1' });
    const again = await db.createVersion('bob', 'idem', { files, idempotencyKey: 'k1' });
    expect(again).toMatchObject({ created: false, version: { version: first.version.version } });
    await expect(
      db.createVersion('bob', 'idem', { files: [{ ...files[0]!, size: 2 }], idempotencyKey: 'k1' }),
    ).rejects.toMatchObject({ code: 'FERRY_REGISTRY_CONFLICT' });
  });

  it('aliases: only ready versions, concurrent moves serialize, protected needs admin', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    await db.models.create('carol', { name: 'alias-model' });
    for (let i = 0; i < 3; i++) {
      const { version } = await db.createVersion('carol', 'alias-model', {
        files: [{ path: 'w', sha256: sha(String(i)), size: 1 }],
      });
      if (i < 2)
        await db.versions.finish('carol', 'alias-model', version.version, {
          status: 'ready',
          formats: {},
          inspect: null,
          scan: 'safe',
          scanDetail: null,
        });
    }
    await expect(
      db.aliases.set('carol', 'alias-model', 'prod', 3, { allowProtected: false }),
    ).rejects.toMatchObject({ code: 'FERRY_REGISTRY_CONFLICT' });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.aliases.set('carol', 'alias-model', 'prod', (i % 2) + 1, { allowProtected: false }),
      ),
    );
    const moves = await db.audit.list({ target: 'models:/alias-model@prod' });
    expect(moves).toHaveLength(10);
    // Serialized: each move's "before" is the previous move's "after".
    for (let i = 1; i < moves.length; i++)
      expect((moves[i]!.before as { version: number }).version).toBe(
        (moves[i - 1]!.after as { version: number }).version,
      );
    await db.aliases.set('root', 'alias-model', 'prod', 2, { protect: true, allowProtected: true });
    await expect(
      db.aliases.set('carol', 'alias-model', 'prod', 1, { allowProtected: false }),
    ).rejects.toMatchObject({ code: 'FERRY_REGISTRY_FORBIDDEN' });
    await expect(db.aliases.delete('carol', 'alias-model', 'prod', false)).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_FORBIDDEN',
    });
    expect(await db.aliases.get('alias-model', 'prod')).toMatchObject({ version: 2, protected: true });
  });

  it('a transaction across table groups commits whole or not at all; lineage follows renames and deletes', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = await db.createRun('erin', { name: 'fit' });
    await db.models.create('erin', { name: 'team/atomic' });
    // The repeated path breaks version_files' key after the number, the version row and the run's
    // edge were written in the same transaction: all of them must roll back.
    const file = { path: 'w.bin', sha256: sha('w'), size: 1 };
    await expect(
      db.createVersion('erin', 'team/atomic', {
        files: [file, file],
        runId: run.id,
        derivedFrom: ['dataset:x'],
      }),
    ).rejects.toThrow();
    expect(await db.versions.list('team/atomic', { includePending: true })).toEqual([]);
    expect((await db.lineage.graph(`run:${run.id}`)).downstream.edges).toEqual([]);
    expect((await db.lineage.graph('dataset:x')).downstream.edges).toEqual([]);
    expect(await db.audit.list({ target: 'models:/team/atomic/1' })).toEqual([]);
    const { version } = await db.createVersion('erin', 'team/atomic', { files: [file], runId: run.id });
    expect(version.version).toBe(1); // the failed attempt took no number

    await db.renameModel('erin', 'team/atomic', 'team/renamed');
    expect((await db.lineage.graph(`run:${run.id}`)).downstream.nodes).toEqual([
      `run:${run.id}`,
      'models:/team/renamed/1',
    ]);
    await db.models.create('erin', { name: 'team/taken' });
    await expect(db.renameModel('erin', 'team/renamed', 'team/taken')).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_CONFLICT',
    });
    expect((await db.lineage.graph(`run:${run.id}`)).downstream.nodes).toContain('models:/team/renamed/1');
    await db.deleteModel('erin', 'team/renamed');
    expect((await db.lineage.graph(`run:${run.id}`)).downstream.edges).toEqual([]);
    expect((await db.audit.list({ target: 'models:/team/renamed' })).map((e) => e.action)).toEqual([
      'model.rename',
      'model.delete',
    ]);
  });

  it('runs, datasets and lineage edges walk upstream and downstream', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = await db.createRun('dave', {
      name: 'train',
      params: { lr: '0.1' },
      inputs: [{ name: 'mnist', digest: sha('data') }],
    });
    await db.runs.log('dave', run.id, {
      metrics: [
        { key: 'loss', value: 0.5 },
        { key: 'loss', value: 0.25 },
      ],
      status: 'finished',
    });
    await expect(db.runs.log('dave', run.id, { params: { lr: '0.2' } })).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_CONFLICT',
    });
    const shown = await db.runs.get(run.id);
    expect(shown).toMatchObject({ status: 'finished', params: { lr: '0.1' } });
    expect(shown!.metrics.map((m) => [m.value, m.step])).toEqual([
      [0.5, 0],
      [0.25, 1],
    ]);
    await db.models.create('dave', { name: 'lin' });
    const v1 = (
      await db.createVersion('dave', 'lin', {
        files: [{ path: 'a', sha256: sha('1'), size: 1 }],
        runId: run.id,
      })
    ).version;
    const v2 = (await db.createVersion('dave', 'lin', { files: [{ path: 'a', sha256: sha('2'), size: 1 }] }))
      .version;
    await db.lineage.addEdge('dave', 'models:/lin/1', 'models:/lin/2', 'derived');
    const graph = await db.lineage.graph('models:/lin/2');
    expect(graph.upstream.nodes).toHaveLength(4);
    expect(graph.upstream.nodes[0]).toBe('models:/lin/2');
    expect(graph.upstream.nodes).toContain(`run:${run.id}`);
    expect(graph.upstream.nodes.some((n) => n.startsWith('dataset:'))).toBe(true);
    const down = await db.lineage.graph(`run:${run.id}`);
    expect(down.downstream.nodes).toEqual([`run:${run.id}`, 'models:/lin/1', 'models:/lin/2']);
    expect(v1.runId).toBe(run.id);
    expect(v2.version).toBe(2);
  });
});

const blobBackends: {
  name: string;
  open: () => Promise<
    { blobs: BlobStore; cleanup: () => Promise<void>; files?: () => Promise<string[]> } | undefined
  >;
}[] = [
  {
    name: 'folder',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ferry-blobs-'));
      return {
        blobs: await FolderBlobStore.open(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
        files: () => readdir(join(dir, 'uploads')),
      };
    },
  },
  {
    name: 'oci',
    open: async () => {
      if (!hasDockerRegistry()) return undefined;
      const registry: RunningOciRegistry = await startOciRegistry();
      return {
        blobs: OciBlobStore.fromUri(`oci://${registry.hostPort}/ferry/blobs`),
        cleanup: () => registry.stop(),
      };
    },
  },
];

describe.each(blobBackends)('blob store: $name', (backend) => {
  let blobs: BlobStore;
  let cleanup: () => Promise<void> = async () => {};
  let files: (() => Promise<string[]>) | undefined;
  let skip = false;
  beforeAll(async () => {
    const opened = await backend.open();
    if (!opened) {
      skip = true;
      return;
    }
    ({ blobs, cleanup, files } = opened);
  });
  afterAll(() => cleanup());

  it('stores by sha256, deduplicates, reads ranges, refuses a wrong digest and leaves nothing', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const text = 'hello, content-addressed world';
    expect(await blobs.stat(sha(text))).toBeUndefined();
    expect(
      await blobs.put(chunks('hello, ', 'content-addressed world'), { sha256: sha(text), size: text.length }),
    ).toMatchObject({ created: true, size: text.length });
    expect(await blobs.put(chunks(text), { sha256: sha(text) })).toMatchObject({ created: false });
    expect(await blobs.stat(sha(text))).toBe(text.length);
    expect(await readAll(await blobs.get(sha(text)))).toBe(text);
    expect(await readAll(await blobs.get(sha(text), { start: 7, end: 23 }))).toBe('content-addressed');
    await expect(blobs.put(chunks('tampered'), { sha256: sha('original') })).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_DIGEST_MISMATCH',
    });
    expect(await blobs.stat(sha('original'))).toBeUndefined();
    expect(await blobs.stat(sha('tampered'))).toBeUndefined();
    if (files) expect(await files()).toEqual([]);
    await blobs.delete(sha(text));
    expect(await blobs.stat(sha(text))).toBeUndefined();
  });

  it('resumable uploads: chunks at the recorded offset, verified on finish', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const parts = ['a'.repeat(1000), 'b'.repeat(777), 'c'];
    const whole = parts.join('');
    let state = await blobs.startUpload('up-1');
    let received = 0;
    for (const part of parts) {
      ({ state, received } = await blobs.appendUpload(state, received, chunks(part)));
    }
    expect(received).toBe(whole.length);
    await expect(blobs.appendUpload(state, whole.length + 10, chunks('x'))).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_CONFLICT',
    });
    expect(await blobs.finishUpload(state, { sha256: sha(whole), size: whole.length })).toMatchObject({
      created: true,
      size: whole.length,
    });
    expect(await readAll(await blobs.get(sha(whole), { start: 999, end: 1000 }))).toBe('ab');

    let bad = await blobs.startUpload('up-2');
    ({ state: bad } = await blobs.appendUpload(bad, 0, chunks('wrong')));
    await expect(blobs.finishUpload(bad, { sha256: sha('right') })).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_DIGEST_MISMATCH',
    });
    expect(await blobs.stat(sha('right'))).toBeUndefined();
    await blobs.abortUpload(bad);
  });
});
