import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat, inspectModel } from '@ferry/formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, type RemoteRegistryError } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const FIXTURES = join(import.meta.dirname, '../../../../shared/fixtures');

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as RemoteRegistryError).code;
  }
  return 'no error';
}

describe.each(BACKENDS)('registry on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let admin: RegistryClient;
  let anon: RegistryClient;
  let work: string;
  let adminToken: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    work = await mkdtemp(join(tmpdir(), 'ferry-work-'));
    const tokenFile = join(work, 'admin-token');
    server = await startServer(backend, { adminTokenFile: tokenFile });
    adminToken = (await readFile(tokenFile, 'utf8')).trim();
    expect(server.adminToken).toBe(adminToken);
    admin = new RegistryClient({ url: server.url, token: adminToken, chunkBytes: 1000 });
    anon = new RegistryClient({ url: server.url });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const raw = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      body,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
    });

  it('pushes a folder (chunked and whole uploads), pulls it back byte for byte, dedups blobs', async ({
    skip,
  }) => {
    if (!backend) skip();
    const src = join(work, 'model-a');
    await mkdir(join(src, 'sub'), { recursive: true });
    const big = Buffer.alloc(4321, 7).map((_, i) => (i * 31) % 251);
    await writeFile(join(src, 'weights.bin'), big); // over chunkBytes: resumable chunks
    await writeFile(join(src, 'sub', 'config.json'), '{"layers": 2}');
    await writeFile(join(src, 'README.md'), '# model a\n');
    const v1 = await admin.push(src, { model: 'team/alpha', alias: 'prod', description: 'first' });
    expect(v1).toMatchObject({ version: 1, status: 'ready', aliases: ['prod'], scan: 'unknown' });
    expect(v1.files.map((f) => f.path)).toEqual(['README.md', 'sub/config.json', 'weights.bin']);
    expect(v1.files.find((f) => f.path === 'weights.bin')).toMatchObject({
      sha256: sha(big),
      size: big.length,
    });

    const out = join(work, 'pulled-a');
    // weights.bin is no format ferry reads: the scan says unknown, so pulling it takes --force.
    expect(await code(anon.pull('models:/team/alpha@prod', out))).toBe('FERRY_REGISTRY_UNVERIFIED');
    const pulled = await anon.pull('models:/team/alpha@prod', out, { force: true });
    expect(pulled.version).toBe(1);
    expect(await readFile(join(out, 'weights.bin'))).toEqual(big);
    expect(await readFile(join(out, 'sub', 'config.json'), 'utf8')).toBe('{"layers": 2}');

    // Same files again: the idempotent push returns version 1, nothing new is created.
    expect((await admin.push(src, { model: 'team/alpha' })).version).toBe(1);
    // Another model sharing the big file: its blob is already stored, nothing to upload.
    const declared = await admin
      .createModel({ name: 'team/beta' })
      .then(() =>
        admin.createVersion('team/beta', { files: [{ path: 'w.bin', sha256: sha(big), size: big.length }] }),
      );
    expect(declared.missing).toEqual([]);
    expect((await admin.commitVersion('team/beta', declared.version.version)).status).toBe('ready');
  });

  it('downloads stream with ETag, If-None-Match and Range', async ({ skip }) => {
    if (!backend) skip();
    // scan unknown (bytes no reader claims): served only with force
    const path = '/api/v1/models/team%2Falpha/versions/1/files/weights.bin?force=true';
    const whole = await fetch(`${server.url}${path}`);
    const etag = whole.headers.get('etag')!;
    const body = Buffer.from(await whole.arrayBuffer());
    expect(etag).toBe(`"${sha(body)}"`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect((await fetch(`${server.url}${path}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await fetch(`${server.url}${path}`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), head.headers.get('etag')]).toEqual([
      200,
      String(body.length),
      etag,
    ]);
    const part = await fetch(`${server.url}${path}`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(body.subarray(100, 200));
    const tail = await fetch(`${server.url}${path}`, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(body.subarray(-10));
    const bad = await fetch(`${server.url}${path}`, { headers: { range: 'bytes=99999-' } });
    expect(bad.status).toBe(416);
  });

  it('a version is invisible until all its files are committed; digests are verified', async ({ skip }) => {
    if (!backend) skip();
    const content = 'pending file content';
    const { version, missing } = await admin.createVersion('team/alpha', {
      files: [{ path: 'x.bin', sha256: sha(content), size: content.length }],
    });
    expect(version.status).toBe('pending');
    expect(missing).toEqual([sha(content)]);
    expect((await anon.listVersions('team/alpha')).map((v) => v.version)).toEqual([1]);
    expect(await code(admin.setAlias('team/alpha', 'next', version.version))).toBe('FERRY_REGISTRY_CONFLICT');
    expect(await code(admin.commitVersion('team/alpha', version.version))).toBe('FERRY_REGISTRY_INCOMPLETE');
    expect(
      (await fetch(`${server.url}/api/v1/models/team%2Falpha/versions/${version.version}/files/x.bin`))
        .status,
    ).toBe(404);
    // Wrong bytes under the declared digest: refused, nothing stored.
    const wrong = await raw('PUT', `/api/v1/blobs/sha256:${sha(content)}`, 'other bytes!', {
      'content-type': 'application/octet-stream',
    });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.code).toBe('FERRY_REGISTRY_DIGEST_MISMATCH');
    expect(await admin.blobExists(sha(content))).toBe(false);
    const right = await raw('PUT', `/api/v1/blobs/sha256:${sha(content)}`, content, {
      'content-type': 'application/octet-stream',
    });
    expect(right.status).toBe(201);
    const ready = await admin.commitVersion('team/alpha', version.version);
    expect(ready.status).toBe('ready');
    // Retrying the commit is harmless.
    expect((await admin.commitVersion('team/alpha', version.version)).status).toBe('ready');
    expect((await anon.listVersions('team/alpha')).map((v) => v.version)).toEqual([1, version.version]);
  });

  it('resumable uploads: resume from the recorded offset after a broken chunk', async ({ skip }) => {
    if (!backend) skip();
    const data = Buffer.from('0123456789'.repeat(50));
    const start = await raw('POST', '/api/v1/uploads');
    const { id } = await start.json();
    const patch = (offset: number, bytes: Buffer) =>
      raw('PATCH', `/api/v1/uploads/${id}`, bytes as unknown as string, {
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
      });
    expect((await (await patch(0, data.subarray(0, 200))).json()).offset).toBe(200);
    const wrongOffset = await patch(100, data.subarray(100, 200));
    expect(wrongOffset.status).toBe(409);
    expect((await (await raw('GET', `/api/v1/uploads/${id}`)).json()).offset).toBe(200);
    expect((await (await patch(200, data.subarray(200))).json()).offset).toBe(500);
    const badFinish = await raw('PUT', `/api/v1/uploads/${id}?digest=sha256:${sha('nope')}`);
    expect(badFinish.status).toBe(400);
    const again = await (await raw('POST', '/api/v1/uploads')).json();
    await raw('PATCH', `/api/v1/uploads/${again.id}`, data as unknown as string, {
      'content-type': 'application/octet-stream',
      'upload-offset': '0',
    });
    const done = await raw('PUT', `/api/v1/uploads/${again.id}?digest=sha256:${sha(data)}&size=500`);
    expect(done.status).toBe(201);
    expect(await admin.blobExists(sha(data))).toBe(true);
  });

  it('auth: tokens hashed at rest, scopes per namespace, private models 404, protected aliases', async ({
    skip,
  }) => {
    if (!backend) skip();
    expect(await code(anon.createModel({ name: 'team/nope' }))).toBe('FERRY_REGISTRY_UNAUTHORIZED');
    const teamWriter = await admin.createToken('tina', ['write:team/*']);
    expect(teamWriter.token).toMatch(/^ferry_/);
    const tokens = await (await raw('GET', '/api/v1/tokens')).text();
    expect(tokens).not.toContain(teamWriter.token);
    const tina = new RegistryClient({ url: server.url, token: teamWriter.token });
    expect(await tina.whoami()).toMatchObject({ user: 'tina', scopes: ['write:team/*'] });
    await tina.createModel({ name: 'team/secret', visibility: 'private' });
    expect(await code(tina.createModel({ name: 'other/thing' }))).toBe('FERRY_REGISTRY_FORBIDDEN');
    const outsider = new RegistryClient({
      url: server.url,
      token: (await admin.createToken('oscar', ['read:other/*'])).token,
    });
    expect(await code(outsider.getModel('team/secret'))).toBe('FERRY_REGISTRY_NOT_FOUND');
    expect(await code(anon.getModel('team/secret'))).toBe('FERRY_REGISTRY_NOT_FOUND');
    expect((await anon.listModels()).models.map((m) => m.name)).not.toContain('team/secret');
    expect((await tina.getModel('team/secret')).visibility).toBe('private');
    expect(
      await code(new RegistryClient({ url: server.url, token: `ferry_${'A'.repeat(43)}` }).whoami()),
    ).toBe('FERRY_REGISTRY_UNAUTHORIZED');

    // Protected aliases: admin sets one; a writer cannot move or remove it.
    await admin.setAlias('team/alpha', 'stable', 1, true);
    expect(await code(tina.setAlias('team/alpha', 'stable', 2))).toBe('FERRY_REGISTRY_FORBIDDEN');
    expect(await code(tina.deleteAlias('team/alpha', 'stable'))).toBe('FERRY_REGISTRY_FORBIDDEN');
    await tina.setAlias('team/alpha', 'canary', 2);
    expect(await code(tina.deleteModel('team/alpha'))).toBe('FERRY_REGISTRY_FORBIDDEN');
  });

  it('concurrent alias moves from many clients serialize; the audit log records each', async ({ skip }) => {
    if (!backend) skip();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => admin.setAlias('team/alpha', 'race', (i % 2) + 1)),
    );
    const moves = await admin.audit({ target: 'models:/team/alpha@race' });
    expect(moves).toHaveLength(20);
    for (let i = 1; i < moves.length; i++)
      expect((moves[i]!.before as { version: number }).version).toBe(
        (moves[i - 1]!.after as { version: number }).version,
      );
    expect((await admin.getAlias('team/alpha', 'race')).version).toBe(
      (moves.at(-1)!.after as { version: number }).version,
    );
    expect(moves[0]).toMatchObject({ actor: 'admin', action: 'alias.set' });
  });

  it('bad input gets 400 with a clear message and changes nothing', async ({ skip }) => {
    if (!backend) skip();
    const before = (await admin.audit({ limit: 1000 })).length;
    const cases: [string, string, string | undefined, RegExp][] = [
      ['POST', '/api/v1/models', JSON.stringify({ name: 'x'.repeat(150) }), /1 to 96 characters/],
      ['POST', '/api/v1/models', '{"name": "broken', /not valid JSON/],
      ['POST', '/api/v1/models', JSON.stringify({ name: 'ok', colour: 'red' }), /unknown field "colour"/],
      [
        'POST',
        '/api/v1/models/team%2Falpha/versions',
        JSON.stringify({ files: [{ path: '../../etc/passwd', sha256: sha('x'), size: 1 }] }),
        /path traversal/,
      ],
      [
        'POST',
        '/api/v1/models/team%2Falpha/versions',
        JSON.stringify({ files: [{ path: '/abs', sha256: sha('x'), size: 1 }] }),
        /must be relative/,
      ],
      [
        'POST',
        '/api/v1/models/team%2Falpha/versions',
        JSON.stringify({ files: [{ path: 'a', sha256: 'abc', size: 1 }] }),
        /body.files.0.sha256/,
      ],
      [
        'PUT',
        '/api/v1/models/team%2Falpha/aliases/prod',
        JSON.stringify({ version: 'two' }),
        /body.version: must be integer/,
      ],
      ['PUT', '/api/v1/models/team%2Falpha/aliases/1bad', JSON.stringify({ version: 1 }), /alias "1bad"/],
    ];
    for (const [method, path, body, message] of cases) {
      const response = await raw(method, path, body);
      const answer = await response.json();
      expect(response.status, `${method} ${path} ${body}`).toBe(400);
      expect(answer.error.message, `${method} ${path}`).toMatch(message);
      expect(answer.error.code).toMatch(/^FERRY_REGISTRY_/);
    }
    expect((await admin.audit({ limit: 1000 })).length).toBe(before);
    expect((await admin.listVersions('team/alpha', true)).length).toBe(2);
  });

  it('runs, metrics, datasets and lineage: upstream and downstream of a version', async ({ skip }) => {
    if (!backend) skip();
    const run = await admin.createRun({
      name: 'train-1',
      params: { lr: '0.01' },
      inputs: [{ name: 'mnist', digest: sha('mnist-data') }],
    });
    await admin.logRun(run.id, {
      metrics: [
        { key: 'loss', value: 0.9 },
        { key: 'loss', value: 0.4 },
      ],
      status: 'finished',
    });
    expect((await admin.getRun(run.id)).metrics.map((m) => m.value)).toEqual([0.9, 0.4]);
    const src = join(work, 'model-run');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'w.bin'), 'trained weights');
    const trained = await admin.push(src, { model: 'team/gamma', runId: run.id, alias: 'prod' });
    await writeFile(join(src, 'w.bin'), 'quantized weights');
    const quantized = await admin.push(src, {
      model: 'team/gamma-int8',
      derivedFrom: ['models:/team/gamma@prod'],
    });
    const graph = await anon.lineage(
      'models:/team/gamma-int8@latest'.replace('@latest', `/${quantized.version}`),
    );
    expect(graph.upstream.nodes).toEqual(
      expect.arrayContaining([`models:/team/gamma/${trained.version}`, `run:${run.id}`]),
    );
    expect(graph.upstream.nodes.some((n) => n.startsWith('dataset:'))).toBe(true);
    const down = await anon.lineage(`run:${run.id}`);
    expect(down.downstream.edges).toEqual([
      { src: `run:${run.id}`, dst: `models:/team/gamma/${trained.version}`, relation: 'output' },
      {
        src: `models:/team/gamma/${trained.version}`,
        dst: `models:/team/gamma-int8/${quantized.version}`,
        relation: 'derived',
      },
    ]);
  });

  it('model cards keep README.md with YAML front matter; tags on models and versions', async ({ skip }) => {
    if (!backend) skip();
    const card = await admin.setCard(
      'team/alpha',
      '---\nlicense: apache-2.0\ntags: [vision, mnist]\n---\n# Alpha\nDigits.\n',
    );
    expect(card.metadata).toEqual({ license: 'apache-2.0', tags: ['vision', 'mnist'] });
    expect((await anon.getCard('team/alpha')).body).toBe('# Alpha\nDigits.\n');
    expect(await code(admin.setCard('team/alpha', '---\n: [unclosed\n---\n'))).toBe(
      'FERRY_REGISTRY_BAD_REQUEST',
    );
    await admin.setModelTag('team/alpha', 'task', 'classification');
    await admin.setVersionTag('team/alpha', 1, 'validated', 'yes');
    expect((await anon.getModel('team/alpha')).tags).toEqual({ task: 'classification' });
    expect((await anon.getVersion('team/alpha', 1)).tags).toEqual({ validated: 'yes' });
  });

  it('scans every pushed file like ferry scan: a real checkpoint is safe, a malicious pickle is refused on pull', async ({
    skip,
  }) => {
    if (!backend) skip();
    const client = new RegistryClient({ url: server.url, token: adminToken });
    const file = join(FIXTURES, 'pickles', 'pytorch_model.bin');
    const version = await client.push(file, { model: 'fixtures/torch' });
    expect(version.files[0]).toMatchObject({ path: 'pytorch_model.bin', format: await detectFormat(file) });
    expect(version.scan).toBe('safe');
    expect((await anon.pull('models:/fixtures/torch', join(work, 'torch'))).version).toBe(version.version);

    const hostile = await client.push(join(FIXTURES, 'pickles', 'malicious1_v0.pkl'), {
      model: 'fixtures/hostile',
    });
    expect(hostile.scan).toBe('unsafe');
    expect(await code(client.pull('models:/fixtures/hostile', join(work, 'hostile')))).toBe(
      'FERRY_REGISTRY_UNSAFE',
    );
  });

  it('detects and inspects a real safetensors file: format, tensor count, parameters, verdict safe', async ({
    skip,
  }) => {
    if (!backend) skip();
    const file = join(import.meta.dirname, '../../../fixtures/safetensors/small.safetensors');
    const report = await inspectModel(file);
    const version = await new RegistryClient({ url: server.url, token: adminToken }).push(file, {
      model: 'fixtures/small',
    });
    expect(version.files[0]).toMatchObject({ path: 'small.safetensors', format: 'safetensors' });
    expect(version.scan).toBe('safe');
    expect((version.inspect as { files: Record<string, unknown> }).files['small.safetensors']).toMatchObject({
      format: 'safetensors',
      tensors: report.tensors.length,
      parameters: report.parameters,
      bytes: report.bytes,
    });
  });

  it('serves an OpenAPI document at /openapi.json', async ({ skip }) => {
    if (!backend) skip();
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/models',
        '/api/v1/models/{model}/versions',
        '/api/v1/uploads/{id}',
        '/api/v1/lineage',
      ]),
    );
  });

  it('rate-limits failed authentications (429 with Retry-After)', async ({ skip }) => {
    if (!backend) skip();
    const wrong = { authorization: `Bearer ferry_${'B'.repeat(43)}` };
    // The auth test above already failed once from this address; the limit is 10 a minute.
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++)
      statuses.push((await fetch(`${server.url}/api/v1/whoami`, { headers: wrong })).status);
    expect(statuses).toEqual(Array(9).fill(401));
    const limited = await fetch(`${server.url}/api/v1/whoami`, { headers: wrong });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).error.code).toBe('FERRY_REGISTRY_RATE_LIMITED');
    // A valid token from the same address is still admitted: others' failures never lock it out
    // (issue #24; test/abuse.test.ts covers the window).
    expect(
      (await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${adminToken}` } }))
        .status,
    ).toBe(200);
  });
});
