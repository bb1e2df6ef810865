import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRepo,
  deleteFile,
  deleteRepo,
  downloadFile,
  fileExists,
  listModels,
  modelInfo,
  uploadFiles,
  whoAmI,
} from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const CORPUS = join(import.meta.dirname, '../../../fixtures/pickle/corpus');

/** A real safetensors file of `n` float32 values: over the 1 MiB inline line, so it goes through LFS. */
function safetensors(n: number): Buffer {
  let header = JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const out = Buffer.alloc(8 + header.length + 4 * n);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  out.write(header, 8, 'latin1');
  for (let i = 0; i < n; i++) out.writeFloatLE(i / n, 8 + header.length + 4 * i);
  return out;
}

/** The Hub upload half, driven by the real @huggingface/hub client (2.x) with an hf_-prefixed ferry token. */
describe.each(BACKENDS)('Hugging Face Hub uploads on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let hub: { hubUrl: string; accessToken: string };
  let calls: string[];
  // Records every request the client sends (method and path), to show which routes an upload takes.
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(
      `${init?.method ?? 'GET'} ${url.pathname.replace(/\/api\/hub-lfs\/[^/]+/, '/api/hub-lfs/ID')}`,
    );
    return fetch(input, init);
  };
  const version = async (model: string, n: number) =>
    (
      await fetch(`${server.url}/api/v1/models/${encodeURIComponent(model)}/versions/${n}`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      })
    ).json();

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend);
    hub = { hubUrl: server.url, accessToken: `hf_${server.adminToken}` };
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('whoAmI with hf_ + a ferry token; the client itself refuses a bare ferry token', async ({ skip }) => {
    if (!backend) skip();
    const me = await whoAmI(hub);
    expect(me).toMatchObject({ type: 'user', name: 'admin', auth: { type: 'access_token' } });
    expect((me as { auth: { accessToken: { role: string } } }).auth.accessToken.role).toBe('write');
    await expect(whoAmI({ ...hub, accessToken: server.adminToken! })).rejects.toThrow(
      /must start with 'hf_'/,
    );
    await expect(whoAmI({ ...hub, accessToken: `hf_ferry_${'A'.repeat(43)}` })).rejects.toThrow(
      /unknown or revoked token/,
    );
  });

  it('createRepo, upload small and LFS-sized files, list, fileExists, download, delete a file', async ({
    skip,
  }) => {
    if (!backend) skip();
    const created = await createRepo({ ...hub, repo: 'acme/uploaded' });
    expect(created.repoUrl).toBe(`${server.url}/acme/uploaded`);
    await expect(createRepo({ ...hub, repo: 'acme/uploaded' })).rejects.toThrow(/already created/);
    // An empty repo has info (no sha, no files), as on the Hub.
    const empty = await modelInfo({
      ...hub,
      name: 'acme/uploaded',
      additionalFields: ['sha', 'siblings'] as never,
    });
    expect(empty).toMatchObject({ name: 'acme/uploaded', private: false, siblings: [] });
    expect((empty as unknown as { sha?: string }).sha).toBeUndefined();

    const config = Buffer.from('{"model_type": "mlp"}');
    const weights = safetensors(400_000); // 1.6 MB
    calls = [];
    const first = await uploadFiles({
      ...hub,
      fetch: recording,
      repo: 'acme/uploaded',
      commitTitle: 'first weights',
      commitDescription: 'trained on 3 epochs',
      files: [
        { path: 'config.json', content: new Blob([config]) },
        { path: 'model.safetensors', content: new Blob([weights]) },
      ],
    });
    expect(calls).toEqual([
      'POST /api/models/acme/uploaded/preupload/main',
      'POST /acme/uploaded.git/info/lfs/objects/batch',
      `PUT /api/hub-lfs/ID/${sha(weights)}/${weights.length}`,
      'POST /api/models/acme/uploaded/commit/main',
    ]);
    const v1 = await version('acme/uploaded', 1);
    expect(first!.commit.oid).toBe(v1.digest.slice(0, 40));
    expect(v1).toMatchObject({
      status: 'ready',
      scan: 'safe',
      description: 'first weights\n\ntrained on 3 epochs',
    });
    expect(v1.files.map((f: { path: string; sha256: string }) => [f.path, f.sha256])).toEqual([
      ['config.json', sha(config)],
      ['model.safetensors', sha(weights)],
    ]);

    // A second commit builds on main: the earlier files stay, the LFS blob is not sent again.
    calls = [];
    await uploadFiles({
      ...hub,
      fetch: recording,
      repo: 'acme/uploaded',
      commitTitle: 'readme',
      files: [
        { path: 'README.md', content: new Blob(['# uploaded\n']) },
        { path: 'copy/model.safetensors', content: new Blob([weights]) },
      ],
    });
    expect(calls.filter((c) => c.startsWith('PUT'))).toEqual([]);
    const v2 = await version('acme/uploaded', 2);
    expect(v2.files.map((f: { path: string }) => f.path)).toEqual([
      'README.md',
      'config.json',
      'copy/model.safetensors',
      'model.safetensors',
    ]);

    expect(await fileExists({ ...hub, repo: 'acme/uploaded', path: 'README.md' })).toBe(true);
    expect(await fileExists({ ...hub, repo: 'acme/uploaded', path: 'nope.txt' })).toBe(false);
    expect(await fileExists({ ...hub, repo: 'acme/uploaded', path: 'README.md', revision: '1' })).toBe(false);
    const blob = await downloadFile({ ...hub, repo: 'acme/uploaded', path: 'model.safetensors' });
    expect(sha(Buffer.from(await blob!.arrayBuffer()))).toBe(sha(weights));
    const old = await downloadFile({
      ...hub,
      repo: 'acme/uploaded',
      path: 'config.json',
      revision: first!.commit.oid,
    });
    expect(Buffer.from(await old!.arrayBuffer())).toEqual(config);

    await deleteFile({ ...hub, repo: 'acme/uploaded', path: 'copy/model.safetensors' });
    expect((await version('acme/uploaded', 3)).files).toHaveLength(3);

    await createRepo({ ...hub, repo: 'acme/other', private: true });
    await createRepo({ ...hub, repo: 'zoo/first' });
    const listed: { name: string; private: boolean }[] = [];
    for await (const m of listModels({ ...hub, search: { owner: 'acme' } })) listed.push(m);
    expect(listed.map((m) => [m.name, m.private])).toEqual([
      ['acme/other', true],
      ['acme/uploaded', false],
    ]);
    const searched: string[] = [];
    for await (const m of listModels({ ...hub, search: { query: 'FIRST' } })) searched.push(m.name);
    expect(searched).toEqual(['zoo/first']);
    // Anonymous callers do not see the private repo.
    const anonymous: string[] = [];
    for await (const m of listModels({ hubUrl: server.url, search: { owner: 'acme' } }))
      anonymous.push(m.name);
    expect(anonymous).toEqual(['acme/uploaded']);

    await deleteRepo({ ...hub, repo: 'acme/other' });
    await expect(modelInfo({ ...hub, name: 'acme/other' })).rejects.toThrow(/Repository not found/);
  });

  it('a commit to an alias moves it; an uploaded pickle is scanned like a push and not served', async ({
    skip,
  }) => {
    if (!backend) skip();
    await createRepo({ ...hub, repo: 'acme/branches' });
    await uploadFiles({
      ...hub,
      repo: 'acme/branches',
      files: [{ path: 'config.json', content: new Blob(['{"a": 1}']) }],
    });
    const aliasSet = await fetch(`${server.url}/api/v1/models/acme%2Fbranches/aliases/prod`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1 }),
    });
    expect(aliasSet.status).toBe(200);
    await uploadFiles({
      ...hub,
      repo: 'acme/branches',
      branch: 'prod',
      files: [{ path: 'config.json', content: new Blob(['{"a": 2}']) }],
    });
    const prod = await downloadFile({ ...hub, repo: 'acme/branches', path: 'config.json', revision: 'prod' });
    expect(await prod!.text()).toBe('{"a": 2}');
    await expect(
      uploadFiles({
        ...hub,
        repo: 'acme/branches',
        branch: 'nope',
        files: [{ path: 'x', content: new Blob(['x']) }],
      }),
    ).rejects.toThrow(/Invalid rev id: nope/);

    const payload = await readFile(join(CORPUS, 'payload_then_garbage.pkl'));
    await uploadFiles({
      ...hub,
      repo: 'acme/branches',
      files: [{ path: 'model.pkl', content: new Blob([payload]) }],
    });
    const v3 = await version('acme/branches', 3);
    expect(v3).toMatchObject({ status: 'ready', scan: 'unsafe', scanDetail: 'model.pkl: dangerous-call' });
    await expect(
      downloadFile({ ...hub, repo: 'acme/branches', path: 'config.json', revision: '3' }),
    ).rejects.toThrow(/unsafe/);
  });

  it('scoped tokens: team/* is an org; a read token cannot upload; a protected alias needs admin', async ({
    skip,
  }) => {
    if (!backend) skip();
    const token = async (user: string, scopes: string[]) => {
      const response = await fetch(`${server.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user, scopes }),
      });
      return `hf_${(await response.json()).token}`;
    };
    const writer = { hubUrl: server.url, accessToken: await token('wendy', ['write:team/*']) };
    const reader = { hubUrl: server.url, accessToken: await token('rita', ['read:*']) };
    const me = await whoAmI(writer);
    expect(me.name).toBe('wendy');
    expect((me as unknown as { orgs: { name: string }[] }).orgs.map((o) => o.name)).toEqual(['team']);
    expect(
      ((await whoAmI(reader)) as { auth: { accessToken: { role: string } } }).auth.accessToken.role,
    ).toBe('read');

    await createRepo({ ...writer, repo: 'team/model' });
    await expect(createRepo({ ...writer, repo: 'other/model' })).rejects.toThrow(
      /wendy lacks the write scope/,
    );
    await uploadFiles({
      ...writer,
      repo: 'team/model',
      files: [{ path: 'a.json', content: new Blob(['{}']) }],
    });
    await expect(
      uploadFiles({ ...reader, repo: 'team/model', files: [{ path: 'b.json', content: new Blob(['{}']) }] }),
    ).rejects.toThrow(/rita lacks the write scope on team\/model/);

    const protect = await fetch(`${server.url}/api/v1/models/team%2Fmodel/aliases/prod`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1, protected: true }),
    });
    expect(protect.status).toBe(200);
    await expect(
      uploadFiles({
        ...writer,
        repo: 'team/model',
        branch: 'prod',
        files: [{ path: 'c.json', content: new Blob(['{}']) }],
      }),
    ).rejects.toThrow(/a protected alias/);
    // Refused before anything was written: still one version.
    expect((await version('team/model', 2)).error.code).toBe('FERRY_REGISTRY_NOT_FOUND');
  });

  it('LFS basic transfer keeps only bytes whose sha256 is the oid; errors are Hub-shaped', async ({
    skip,
  }) => {
    if (!backend) skip();
    await createRepo({ ...hub, repo: 'acme/lfs' });
    const auth = { authorization: `Bearer ${hub.accessToken}` };
    const real = Buffer.from('the real bytes');
    const batch = await fetch(`${server.url}/acme/lfs.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/vnd.git-lfs+json' },
      body: JSON.stringify({
        operation: 'upload',
        transfers: ['basic'],
        objects: [{ oid: sha(real), size: real.length }],
      }),
    });
    expect(batch.headers.get('content-type')).toContain('application/vnd.git-lfs+json');
    const answer = await batch.json();
    expect(answer.transfer).toBe('basic');
    const href = answer.objects[0].actions.upload.href as string;
    const forged = await fetch(href, { method: 'PUT', body: Buffer.from('other bytes!!!') });
    expect(forged.status).toBe(400);
    // The URL was spent; the commit naming the oid is refused because nothing was stored.
    expect((await fetch(href, { method: 'PUT', body: real })).status).toBe(404);
    const commit = await fetch(`${server.url}/api/models/acme/lfs/commit/main`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      body: [
        { key: 'header', value: { summary: 'x' } },
        { key: 'lfsFile', value: { path: 'a.bin', algo: 'sha256', oid: sha(real), size: real.length } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    });
    expect(commit.status).toBe(400);
    expect((await commit.json()).error).toMatch(/was not uploaded/);
    expect(commit.headers.get('x-error-message')).toMatch(/was not uploaded/);

    const bad = await fetch(`${server.url}/api/models?limit=0`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-error-message')).toBe('limit must be 1 to 1000');
    expect(await bad.json()).toEqual({ error: 'limit must be 1 to 1000' });
    const paged = await fetch(`${server.url}/api/models?limit=1&sort=id`);
    expect((await paged.json()).map((m: { id: string }) => m.id)).toEqual(['acme/branches']);
    expect(paged.headers.get('link')).toMatch(/cursor=.*rel="next"/);
    const anonymous = await fetch(`${server.url}/api/whoami-v2`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error).toMatch(/needs a token/);
  });
});
