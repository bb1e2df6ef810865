import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, downloadFileToCacheDir, listFiles, modelInfo, pathsInfo } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The Hub download subset, driven by the real @huggingface/hub client (hubUrl) and by plain HTTP. */
describe.each(BACKENDS)('Hugging Face Hub-compatible API on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let work: string;
  let v2: Awaited<ReturnType<RegistryClient['push']>>;
  // Real files: only a version the scan shows safe is served through the Hub API.
  const REPO = join(import.meta.dirname, '../../..');
  let weights: Buffer;
  let onnx: Buffer;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    weights = await readFile(join(REPO, 'fixtures/safetensors/small.safetensors'));
    onnx = await readFile(join(REPO, 'fixtures/onnx/typed.onnx'));
    server = await startServer(backend);
    work = await mkdtemp(join(tmpdir(), 'ferry-hub-'));
    const client = new RegistryClient({ url: server.url, token: server.adminToken! });
    const src = join(work, 'src');
    await mkdir(join(src, 'onnx'), { recursive: true });
    await writeFile(join(src, 'config.json'), '{"model_type": "bert"}');
    await writeFile(join(src, 'model.safetensors'), weights);
    await writeFile(join(src, 'onnx', 'model.onnx'), onnx);
    await client.push(join(src, 'config.json'), { model: 'acme/bert' });
    v2 = await client.push(src, { model: 'acme/bert', alias: 'prod' });
    await client.setCard(
      'acme/bert',
      '---\nlicense: mit\npipeline_tag: fill-mask\nlibrary_name: transformers\ntags: [nlp]\n---\n# BERT\n',
    );
    await client.push(join(src, 'config.json'), { model: 'acme/secret', visibility: 'private' });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('@huggingface/hub: model info, list files, download a model by alias', async ({ skip }) => {
    if (!backend) skip();
    const hubUrl = server.url;
    const info = await modelInfo({
      name: 'acme/bert',
      hubUrl,
      additionalFields: ['sha', 'siblings', 'cardData'] as never,
    });
    expect(info).toMatchObject({ name: 'acme/bert', private: false, task: 'fill-mask' });
    expect((info as unknown as { sha: string }).sha).toBe(v2.digest!.slice(0, 40));
    expect((info as unknown as { cardData: unknown }).cardData).toMatchObject({ license: 'mit' });

    const files: { path: string; type: string; lfs?: { oid: string } }[] = [];
    for await (const f of listFiles({ repo: 'acme/bert', hubUrl, recursive: true, revision: 'prod' }))
      files.push(f);
    expect(files.map((f) => `${f.type}:${f.path}`)).toEqual([
      'file:config.json',
      'file:model.safetensors',
      'directory:onnx',
      'file:onnx/model.onnx',
    ]);
    expect(files[1]!.lfs?.oid).toBe(sha(weights));
    const top: string[] = [];
    for await (const f of listFiles({ repo: 'acme/bert', hubUrl, revision: '1' })) top.push(f.path);
    expect(top).toEqual(['config.json']);

    const cacheDir = join(work, 'hf-cache');
    const path = await downloadFileToCacheDir({
      repo: 'acme/bert',
      path: 'model.safetensors',
      revision: 'prod',
      hubUrl,
      cacheDir,
    });
    expect(await readFile(path)).toEqual(weights);
    expect(path).toContain(join('models--acme--bert', 'snapshots', v2.digest!.slice(0, 40)));
    const blob = await downloadFile({
      repo: 'acme/bert',
      path: 'onnx/model.onnx',
      revision: v2.digest!.slice(0, 12),
      hubUrl,
    });
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(onnx);
    const info2 = await pathsInfo({
      repo: 'acme/bert',
      paths: ['config.json', 'onnx', 'missing'],
      revision: 'main',
      hubUrl,
      expand: true,
    });
    expect(info2.map((p) => [p.type, p.path, p.lastCommit?.id])).toEqual([
      ['file', 'config.json', v2.digest!.slice(0, 40)],
      ['directory', 'onnx', v2.digest!.slice(0, 40)],
    ]);
    await expect(modelInfo({ name: 'acme/secret', hubUrl })).rejects.toThrow(/Repository not found/);
    expect(await downloadFile({ repo: 'acme/bert', path: 'nope.bin', hubUrl })).toBeNull();
  });

  it('plain HTTP the way huggingface_hub does it: HEAD on resolve, then GET; errors carry X-Error-Code', async ({
    skip,
  }) => {
    if (!backend) skip();
    const url = `${server.url}/acme/bert/resolve/prod/model.safetensors`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-repo-commit')).toBe(v2.digest!.slice(0, 40));
    expect(head.headers.get('x-linked-etag')).toBe(`"${sha(weights)}"`);
    expect(head.headers.get('etag')).toBe(`"${sha(weights)}"`);
    expect(head.headers.get('x-linked-size')).toBe(String(weights.length));
    expect(head.headers.get('content-length')).toBe(String(weights.length));
    const get = await fetch(url);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(weights);
    const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 10-19/${weights.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(weights.subarray(10, 20));

    const errors = await Promise.all(
      [
        '/acme/nope/resolve/main/x',
        '/acme/bert/resolve/v9/config.json',
        '/acme/bert/resolve/main/missing.txt',
        '/acme/secret/resolve/main/config.json',
      ].map(async (p) => {
        const r = await fetch(`${server.url}${p}`, { method: 'HEAD' });
        return [r.status, r.headers.get('x-error-code')];
      }),
    );
    expect(errors).toEqual([
      [404, 'RepoNotFound'],
      [404, 'RevisionNotFound'],
      [404, 'EntryNotFound'],
      [404, 'RepoNotFound'],
    ]);
  });

  it('tree pages with a Link header; paths-info takes the form encoding huggingface_hub sends', async ({
    skip,
  }) => {
    if (!backend) skip();
    const seen: string[] = [];
    let next: string | undefined = `${server.url}/api/models/acme/bert/tree/prod?recursive=true&limit=2`;
    let pages = 0;
    while (next) {
      const response = await fetch(next);
      seen.push(...((await response.json()) as { path: string }[]).map((e) => e.path));
      next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      pages++;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(['config.json', 'model.safetensors', 'onnx', 'onnx/model.onnx']);
    const sub = await (await fetch(`${server.url}/api/models/acme/bert/tree/prod/onnx`)).json();
    expect(sub.map((e: { path: string }) => e.path)).toEqual(['onnx/model.onnx']);
    const form = await fetch(`${server.url}/api/models/acme/bert/paths-info/prod`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'paths=model.safetensors&paths=onnx%2Fmodel.onnx&expand=True',
    });
    const entries = await form.json();
    expect(entries.map((e: { path: string; size: number }) => [e.path, e.size])).toEqual([
      ['model.safetensors', weights.length],
      ['onnx/model.onnx', onnx.length],
    ]);
  });
});
