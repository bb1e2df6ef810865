import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

describe('SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-sqlite-store-'));
    store = new SqliteStore(join(dir, 'r.db'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode with synchronous=NORMAL (durable against a killed process)', async () => {
    expect(await store.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await store.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
  });

  it('rows are objects keyed by column; a repeated name keeps the last value; writes return none', async () => {
    await store.query('CREATE TABLE t (a TEXT, b INTEGER)');
    expect(await store.query('INSERT INTO t (a, b) VALUES (?, ?)', ['x', 1])).toEqual([]);
    await store.query('INSERT INTO t (a, b) VALUES (?, ?)', ['y', 2]);
    expect(await store.query('SELECT * FROM t ORDER BY b')).toEqual([
      { a: 'x', b: 1 },
      { a: 'y', b: 2 },
    ]);
    expect(await store.query('SELECT a, b AS a FROM t WHERE b = ?', [2])).toEqual([{ a: 2 }]);
    expect(await store.query('SELECT a FROM t WHERE b = ?', [3])).toEqual([]);
  });

  it('a cached statement sees a schema change (SELECT * after ADD COLUMN)', async () => {
    await store.query('CREATE TABLE t (a TEXT)');
    await store.query("INSERT INTO t (a) VALUES ('x')");
    expect(await store.query('SELECT * FROM t')).toEqual([{ a: 'x' }]);
    await store.query("ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'new'");
    expect(await store.query('SELECT * FROM t')).toEqual([{ a: 'x', b: 'new' }]);
  });

  it('more distinct statements than the cache holds still run, old and new', async () => {
    await store.query('CREATE TABLE t (n INTEGER)');
    for (let i = 0; i < 300; i++) await store.query(`INSERT INTO t (n) VALUES (${i})`);
    expect(await store.query('SELECT COUNT(*) AS c FROM t')).toEqual([{ c: 300 }]);
    await store.query('INSERT INTO t (n) VALUES (0)'); // evicted long ago: prepared again
    expect(await store.query('SELECT COUNT(*) AS c FROM t WHERE n = 0')).toEqual([{ c: 2 }]);
  });

  it('FOR UPDATE (a PostgreSQL row lock) runs inside a transaction', async () => {
    await store.query('CREATE TABLE t (a TEXT)');
    await store.query("INSERT INTO t (a) VALUES ('x')");
    const rows = await store.transaction((tx) => tx.query('SELECT a FROM t WHERE a = ? FOR UPDATE', ['x']));
    expect(rows).toEqual([{ a: 'x' }]);
  });
});
