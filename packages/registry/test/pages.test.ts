import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryDb } from '../src/index.js';
import { metadataBackends } from './metadata-backends.helper.js';

/**
 * Listings and searches hydrate a page of versions (files, tags, aliases) and of models (tags,
 * aliases, latest ready version) with one query per relation set: every way of reading a version
 * must give the same record, on both databases, whatever the page size.
 */

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const READY = { status: 'ready', inspect: null, scan: 'safe', scanDetail: null } as const;

describe.each(metadataBackends)('page hydration: $name', (backend) => {
  let db: RegistryDb;
  let cleanup: () => Promise<void> = async () => {};
  let skip = false;
  const everyone = { all: true, namespaces: [], names: [] };

  beforeAll(async () => {
    const opened = await backend.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    db = new RegistryDb(opened.store);
    await db.migrate();
    // team/a: v1 (two files, two tags, two aliases), v2 (one alias), v3 pending. team/b: v1 only.
    await db.models.create('alice', { name: 'team/a', tags: { zeta: 'last', alpha: 'first' } });
    await db.models.create('alice', { name: 'team/b' });
    await db.createVersion('alice', 'team/a', {
      files: [
        { path: 'z/weights.bin', sha256: sha('z'), size: 3 },
        { path: 'a.json', sha256: sha('a'), size: 1 },
      ],
      tags: { stage: 'exp', owner: 'alice' },
      runId: null,
    });
    await db.versions.finish('alice', 'team/a', 1, {
      ...READY,
      formats: { 'a.json': null, 'z/weights.bin': 'safetensors' },
    });
    await db.createVersion('alice', 'team/a', { files: [{ path: 'w.onnx', sha256: sha('w'), size: 2 }] });
    await db.versions.finish('alice', 'team/a', 2, { ...READY, formats: { 'w.onnx': 'onnx' } });
    await db.createVersion('alice', 'team/a', { files: [{ path: 'p.bin', sha256: sha('p'), size: 4 }] });
    await db.createVersion('alice', 'team/b', { files: [{ path: 'b.bin', sha256: sha('b'), size: 5 }] });
    await db.versions.finish('alice', 'team/b', 1, { ...READY, formats: { 'b.bin': null } });
    for (const [alias, version] of [
      ['prod', 1],
      ['canary', 1],
      ['staging', 2],
    ] as const)
      await db.aliases.set('alice', 'team/a', alias, version, { allowProtected: false });
  });
  afterAll(async () => {
    await db?.close();
    await cleanup();
  });

  it('a version reads the same through get, list and search, children sorted', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const listed = await db.versions.list('team/a');
    expect(listed.map((v) => v.version)).toEqual([1, 2]);
    const [v1, v2] = listed;
    expect(v1!.files).toEqual([
      { path: 'a.json', sha256: sha('a'), size: 1, format: null },
      { path: 'z/weights.bin', sha256: sha('z'), size: 3, format: 'safetensors' },
    ]);
    expect(Object.entries(v1!.tags)).toEqual([
      ['owner', 'alice'],
      ['stage', 'exp'],
    ]);
    expect(v1!.aliases).toEqual(['canary', 'prod']);
    expect(v2).toMatchObject({ tags: {}, aliases: ['staging'], files: [{ path: 'w.onnx', format: 'onnx' }] });

    expect(await db.versions.get('team/a', 1)).toEqual(v1);
    expect(await db.versions.get('team/a', 2)).toEqual(v2);
    const byName = await db.versions.search([{ field: 'name', op: '=', value: 'team/a' }], everyone, {
      limit: 10,
      offset: 0,
    });
    expect(byName).toEqual({ versions: [v2, v1], total: 2 });
    const byTag = await db.versions.search(
      [{ field: 'tag', key: 'stage', op: '=', value: 'exp' }],
      everyone,
      {
        limit: 10,
        offset: 0,
      },
    );
    expect(byTag).toEqual({ versions: [v1], total: 1 });
    const everything = await db.versions.search([], everyone, { limit: 10, offset: 0 });
    expect(everything.versions.map((v) => `${v.model}/${v.version}`)).toEqual([
      'team/a/2',
      'team/a/1',
      'team/b/1',
    ]);
    expect(everything.versions[2]).toEqual(await db.versions.get('team/b', 1));

    const all = await db.versions.list('team/a', { includePending: true });
    expect(all.map((v) => [v.version, v.status])).toEqual([
      [1, 'ready'],
      [2, 'ready'],
      [3, 'pending'],
    ]);
    expect(all[2]!.files).toEqual([{ path: 'p.bin', sha256: sha('p'), size: 4, format: null }]);
  });

  it('models carry sorted tags, aliases and the latest ready version (pending ones do not count)', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const a = await db.models.get('team/a');
    expect(a).toMatchObject({ latestVersion: 2, aliases: { canary: 1, prod: 1, staging: 2 } });
    expect(Object.entries(a!.tags)).toEqual([
      ['alpha', 'first'],
      ['zeta', 'last'],
    ]);
    expect(Object.keys(a!.aliases)).toEqual(['canary', 'prod', 'staging']);
    const b = await db.models.get('team/b');
    expect(b).toMatchObject({ latestVersion: 1, tags: {}, aliases: {} });

    const found = await db.models.search([{ field: 'name', op: 'LIKE', value: 'team/%' }], everyone, {
      limit: 10,
      offset: 0,
    });
    expect(found).toEqual({ models: [a, b], total: 2 });
    expect(await db.models.list({ namespace: 'team' })).toEqual([a, b]);
    const latest = await db.versions.latest(found.models);
    expect(latest).toEqual([await db.versions.get('team/a', 2), await db.versions.get('team/b', 1)]);
  });

  it('a page larger than one children query (1,201 versions) keeps every version its own children', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const COUNT = 1201;
    await db.models.create('alice', { name: 'team/many' });
    const { id } = (await db.models.find('team/many'))!;
    const time = new Date().toISOString();
    // Rows written directly, 100 per statement: 1,201 versions through the API would take minutes.
    await db.store.transaction(async (tx) => {
      for (let start = 1; start <= COUNT; start += 100) {
        const numbers = Array.from({ length: Math.min(100, COUNT - start + 1) }, (_, i) => start + i);
        const rows = (n: number) => numbers.map(() => `(${Array(n).fill('?').join(', ')})`).join(', ');
        await tx.query(
          `INSERT INTO versions (model_id, version, status, digest, created_at, updated_at, created_by) VALUES ${rows(7)}`,
          numbers.flatMap((n) => [id, n, 'ready', sha(`d${n}`), time, time, 'alice']),
        );
        await tx.query(
          `INSERT INTO version_files (model_id, version, path, sha256, size) VALUES ${rows(5)}`,
          numbers.flatMap((n) => [id, n, `f${n}.bin`, sha(`f${n}`), n]),
        );
        await tx.query(
          `INSERT INTO version_tags (model_id, version, key, value) VALUES ${rows(4)}`,
          numbers.flatMap((n) => [id, n, 'n', String(n)]),
        );
      }
      await tx.query('UPDATE models SET next_version = ? WHERE id = ?', [COUNT, id]);
    });
    const listed = await db.versions.list('team/many');
    expect(listed).toHaveLength(COUNT);
    for (const [i, v] of listed.entries()) {
      const n = i + 1;
      expect(v.version).toBe(n);
      expect(v.files).toEqual([{ path: `f${n}.bin`, sha256: sha(`f${n}`), size: n, format: null }]);
      expect(v.tags).toEqual({ n: String(n) });
    }
    expect((await db.models.get('team/many'))!.latestVersion).toBe(COUNT);
  });
});
