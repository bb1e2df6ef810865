import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import {
  dropSchema,
  freshSchema,
  hasDockerRegistry,
  hasPostgres,
  POSTGRES_URL,
  type RunningOciRegistry,
  startOciRegistry,
} from './metadata-backends.helper.js';
import { type FerryProcess, spawnRegistry } from './processes.helper.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Two `ferry registry serve` processes on one PostgreSQL + OCI backend: stateless servers. */
describe('two registry processes sharing PostgreSQL + OCI', () => {
  let ready = false;
  let oci: RunningOciRegistry;
  let schema: string;
  let work: string;
  let a: FerryProcess;
  let b: FerryProcess;
  let clientA: RegistryClient;
  let clientB: RegistryClient;

  beforeAll(async () => {
    if (!(await hasPostgres()) || !hasDockerRegistry()) return;
    oci = await startOciRegistry();
    schema = freshSchema();
    const setup = new pg.Client({ connectionString: POSTGRES_URL });
    await setup.connect();
    await setup.query(`CREATE SCHEMA ${schema}`);
    await setup.end();
    work = await mkdtemp(join(tmpdir(), 'ferry-shared-'));
    const db = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const args = [
      '--db',
      db,
      '--blobs',
      `oci://${oci.hostPort}/ferry/shared`,
      '--admin-token-file',
      join(work, 'admin-token'),
      '--data',
      join(work, 'unused'),
    ];
    a = await spawnRegistry(args);
    b = await spawnRegistry(args);
    const token = (await readFile(join(work, 'admin-token'), 'utf8')).trim();
    clientA = new RegistryClient({ url: a.url, token, chunkBytes: 100_000 });
    clientB = new RegistryClient({ url: b.url, token });
    ready = true;
  }, 90_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await oci?.stop();
    if (schema) await dropSchema(schema);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the first start created one admin token that both servers accept', async ({ skip }) => {
    if (!ready) skip();
    expect(a.output() + b.output()).toMatch(/first-start admin token written to/);
    expect(
      (a.output().match(/first-start/g) ?? []).length + (b.output().match(/first-start/g) ?? []).length,
    ).toBe(1);
    expect((await clientA.whoami()).user).toBe('admin');
    expect((await clientB.whoami()).user).toBe('admin');
  });

  it('a version pushed through one server is pulled through the other', async ({ skip }) => {
    if (!ready) skip();
    const src = join(work, 'model');
    await mkdir(src, { recursive: true });
    const weights = Buffer.alloc(250_000).map((_, i) => (i * 7) % 256);
    await writeFile(join(src, 'weights.bin'), weights);
    const pushed = await clientA.push(src, { model: 'shared/m', alias: 'prod' });
    const out = join(work, 'out');
    const pulled = await clientB.pull('models:/shared/m@prod', out, { force: true }); // scan unknown
    expect(pulled.version).toBe(pushed.version);
    expect(sha(await readFile(join(out, 'weights.bin')))).toBe(sha(weights));
  });

  it('an upload started on one server resumes and finishes on the other', async ({ skip }) => {
    if (!ready) skip();
    const data = Buffer.from('resumable across servers '.repeat(400));
    const token = (await readFile(join(work, 'admin-token'), 'utf8')).trim();
    const call = (
      url: string,
      method: string,
      path: string,
      body?: Buffer,
      headers: Record<string, string> = {},
    ) => fetch(`${url}${path}`, { method, body, headers: { authorization: `Bearer ${token}`, ...headers } });
    const { id } = await (await call(a.url, 'POST', '/api/v1/uploads')).json();
    const half = 4000;
    const first = await call(a.url, 'PATCH', `/api/v1/uploads/${id}`, data.subarray(0, half), {
      'content-type': 'application/octet-stream',
      'upload-offset': '0',
    });
    expect((await first.json()).offset).toBe(half);
    expect((await (await call(b.url, 'GET', `/api/v1/uploads/${id}`)).json()).offset).toBe(half);
    const second = await call(b.url, 'PATCH', `/api/v1/uploads/${id}`, data.subarray(half), {
      'content-type': 'application/octet-stream',
      'upload-offset': String(half),
    });
    expect((await second.json()).offset).toBe(data.length);
    expect(
      (await call(b.url, 'PUT', `/api/v1/uploads/${id}?digest=sha256:${sha(data)}&size=${data.length}`))
        .status,
    ).toBe(201);
    expect(await clientA.blobExists(sha(data))).toBe(true);
  });

  it('alias moves through both servers at once serialize', async ({ skip }) => {
    if (!ready) skip();
    const src = join(work, 'model');
    await writeFile(join(src, 'weights.bin'), 'second version');
    const v2 = await clientB.push(src, { model: 'shared/m' });
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? clientA : clientB).setAlias('shared/m', 'race', i % 3 === 0 ? 1 : v2.version),
      ),
    );
    const moves = await clientA.audit({ target: 'models:/shared/m@race' });
    expect(moves).toHaveLength(16);
    for (let i = 1; i < moves.length; i++)
      expect((moves[i]!.before as { version: number }).version).toBe(
        (moves[i - 1]!.after as { version: number }).version,
      );
    const final = (moves.at(-1)!.after as { version: number }).version;
    expect((await clientA.getAlias('shared/m', 'race')).version).toBe(final);
    expect((await clientB.getAlias('shared/m', 'race')).version).toBe(final);
  });
});
