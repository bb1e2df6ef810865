import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

// What the web UI's runs list, audit pages and lineage labels read (#25), on every backend.
describe.each(BACKENDS)('runs list, audit paging and lineage names on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let work: string;
  let admin: RegistryClient;
  let token: string;
  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    // biome-ignore lint/suspicious/noExplicitAny: the answers' shapes are what these tests check
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    work = await mkdtemp(join(tmpdir(), 'ferry-ui-api-'));
    const tokenFile = join(work, 'admin-token');
    server = await startServer(backend, { adminTokenFile: tokenFile });
    token = (await readFile(tokenFile, 'utf8')).trim();
    admin = new RegistryClient({ url: server.url, token });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('GET /api/v1/runs lists runs newest first, a page at a time, without metrics', async ({ skip }) => {
    if (!backend) skip();
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const run = await admin.createRun({ name, params: { lr: '0.1' } });
      await admin.logRun(run.id, { metrics: [{ key: 'loss', value: 1, step: 1 }] });
      ids.push(run.id);
      await new Promise((r) => setTimeout(r, 5)); // distinct start times
    }
    const all = await get('/api/v1/runs');
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.runs.map((r: { name: string }) => r.name)).toEqual(['third', 'second', 'first']);
    expect(all.json.runs[0]).toEqual({
      id: ids[2],
      name: 'third',
      status: 'running',
      startTime: expect.any(String),
      endTime: null,
      createdBy: 'admin',
    });
    const page = await get('/api/v1/runs?limit=1&offset=1');
    expect(page.json).toMatchObject({ total: 3, runs: [{ name: 'second' }] });
    expect((await get('/api/v1/runs?limit=0')).status).toBe(400);
    expect((await get('/api/v1/runs?limit=1001')).status).toBe(400);
  });

  it('GET /api/v1/audit?order=desc pages back from the newest entry with before=', async ({ skip }) => {
    if (!backend) skip();
    await admin.createModel({ name: 'team/audited' });
    for (let i = 0; i < 5; i++) await admin.setModelTag('team/audited', 'n', String(i));
    const ascending = (await get('/api/v1/audit?limit=1000')).json.entries.map((e: { id: number }) => e.id);
    const newest = (await get('/api/v1/audit?order=desc&limit=3')).json.entries.map(
      (e: { id: number }) => e.id,
    );
    expect(newest).toEqual(ascending.slice(-3).reverse());
    const older = (await get(`/api/v1/audit?before=${newest[2]}&limit=3`)).json.entries.map(
      (e: { id: number }) => e.id,
    );
    expect(older).toEqual(ascending.slice(-6, -3).reverse());
    const target = (await get('/api/v1/audit?order=desc&target=models%3A%2Fteam%2Faudited&limit=2')).json
      .entries;
    expect(target.map((e: { after: { n: string } }) => e.after.n)).toEqual(['4', '3']);
  });

  it('GET /api/v1/lineage names the runs and datasets of the graph', async ({ skip }) => {
    if (!backend) skip();
    const run = await admin.createRun({
      name: 'train-named',
      inputs: [{ name: 'imagenet-mini', digest: `sha256:${'a'.repeat(64)}` }],
    });
    const lineage = await get(`/api/v1/lineage?node=run:${run.id}`);
    expect(lineage.status).toBe(200);
    const dataset = lineage.json.upstream.nodes.find((n: string) => n.startsWith('dataset:'));
    expect(lineage.json.names).toEqual({ [`run:${run.id}`]: 'train-named', [dataset]: 'imagenet-mini' });
  });
});
