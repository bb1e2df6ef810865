import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Seeded, seedRegistry } from './seed.helper.js';

/** The registry's UI-facing additions, over real HTTP: static files, tensor table, diff, datasets. */
describe('registry routes for the web UI', () => {
  let ui: string;
  let seeded: Seeded;
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${seeded.server.url}${path}`, {
      headers: { ...headers, ...(token && { authorization: `Bearer ${token}` }) },
    });

  beforeAll(async () => {
    // A stand-in build output: the route serves whatever the folder holds at start.
    ui = await mkdtemp(join(tmpdir(), 'ferry-ui-dist-'));
    await mkdir(join(ui, 'assets'));
    await writeFile(join(ui, 'index.html'), '<!doctype html><title>ferry</title><div id="app"></div>');
    await writeFile(join(ui, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(ui, 'assets', 'index-abc123.css'), 'body{}');
    await writeFile(join(ui, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    seeded = await seedRegistry(ui);
  });
  afterAll(async () => {
    await seeded?.close();
    await rm(ui, { recursive: true, force: true });
  });

  it('serves index.html with no-cache and a CSP, assets immutable with their content types', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="app">');
    const js = await get('/assets/index-abc123.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe('console.log(1)');
    expect((await get('/assets/index-abc123.css')).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    expect((await get('/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('never serves a path outside the UI folder', async () => {
    for (const path of [
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/nope.js',
      '/..%2f..%2fetc%2fpasswd',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('"workspaces"');
    }
  });

  it('lists the tensor table of a version (inspect) and hides private models', async () => {
    const response = await get('/api/v1/models/vision%2Fmnist/versions/2/tensors');
    expect(response.status).toBe(200);
    const table = (await response.json()) as {
      format: string;
      total: number;
      tensors: { name: string; shape: number[] }[];
    };
    expect(table.format).toBe('onnx');
    expect(table.total).toBe(6);
    expect(table.tensors.find((t) => t.name === 'fc3.weight')?.shape).toEqual([10, 128]);
    expect((await get('/api/v1/models/team%2Fsecret/versions/1/tensors')).status).toBe(404);
    const privately = await get('/api/v1/models/team%2Fsecret/versions/1/tensors', seeded.admin);
    expect(((await privately.json()) as { format: string }).format).toBe('safetensors');
  });

  it('diffs two versions tensor by tensor with @ferry/formats', async () => {
    const response = await get('/api/v1/models/vision%2Fmnist/versions/1/diff?against=2');
    expect(response.status).toBe(200);
    const diff = (await response.json()) as {
      equal: boolean;
      onlyInB: string[];
      tensors: { name: string; status: string; shapeA: number[]; shapeB: number[] }[];
    };
    expect(diff.equal).toBe(false);
    expect(diff.onlyInB).toEqual(['fc3.weight', 'fc3.bias']);
    expect(diff.tensors.map((t) => [t.name, t.status])).toEqual([
      ['fc1.weight', 'shape-mismatch'],
      ['fc1.bias', 'shape-mismatch'],
      ['fc2.weight', 'shape-mismatch'],
      ['fc2.bias', 'shape-mismatch'],
    ]);
    // Across models by URI: the derived model holds the same weights as v1.
    const derived = await get(
      `/api/v1/models/vision%2Fmnist/versions/1/diff?against=${encodeURIComponent('models:/vision/mnist-small/1')}`,
    );
    expect(((await derived.json()) as { equal: boolean }).equal).toBe(true);
    const hidden = await get(
      `/api/v1/models/vision%2Fmnist/versions/1/diff?against=${encodeURIComponent('models:/team/secret/1')}`,
    );
    expect(hidden.status).toBe(404);
    expect((await get('/api/v1/models/vision%2Fmnist/versions/1/diff?against=9')).status).toBe(404);
  });

  it('lists every scan finding of a version, paths relative to the version', async () => {
    const response = await get('/api/v1/models/lab%2Fsuspicious/versions/1/scan');
    const scan = (await response.json()) as {
      scan: string;
      files: {
        path: string;
        verdict: string;
        findings: { severity: string; rule: string; message: string }[];
      }[];
    };
    expect(scan.scan).toBe('unsafe');
    expect(scan.files[0]).toMatchObject({ path: 'inst_exec.pkl', verdict: 'unsafe' });
    expect(
      scan.files[0]!.findings.some((f) => f.severity === 'critical' && f.message.includes('builtins.exec')),
    ).toBe(true);
    expect(JSON.stringify(scan)).not.toContain('ferry-ui-');
    // The reader refuses the unsafe file: 422 with the version's path, not the temp folder.
    const refused = await get('/api/v1/models/lab%2Fsuspicious/versions/1/tensors');
    expect(refused.status).toBe(422);
    const body = await refused.text();
    expect(body).toContain('FERRY_REGISTRY_UNSAFE');
    expect(body).toContain('inst_exec.pkl: refused');
    expect(body).not.toContain('ferry-ui-');
    const safe = (await (await get('/api/v1/models/vision%2Fmnist/versions/1/scan')).json()) as {
      files: { verdict: string }[];
    };
    expect(safe.files.map((f) => f.verdict)).toEqual(['safe']);
  });

  it('shows a dataset recorded as a run input', async () => {
    const lineage = (await (await get(`/api/v1/lineage?node=run:${seeded.runId}`)).json()) as {
      upstream: { nodes: string[] };
    };
    const dataset = lineage.upstream.nodes.find((n) => n.startsWith('dataset:'))!;
    const response = await get(`/api/v1/datasets/${dataset.slice('dataset:'.length)}`);
    expect(await response.json()).toMatchObject({ name: 'mnist', source: 's3://data/mnist' });
    expect((await get('/api/v1/datasets/0123456789abcdef0123456789abcdef')).status).toBe(404);
  });
});

describe('registry without a built UI', () => {
  it('starts, answers the API and says at / how to build the UI', async () => {
    const missing = join(tmpdir(), 'ferry-ui-missing-dist');
    const lines: string[] = [];
    const data = await mkdtemp(join(tmpdir(), 'ferry-ui-'));
    const { startRegistry } = await import('@ferry/registry');
    const server = await startRegistry({
      data,
      port: 0,
      log: (l) => lines.push(l),
      webhooks: false,
      ui: missing,
    });
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('npm run build');
      expect(lines.join('\n')).toContain('web UI is not built');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await rm(data, { recursive: true, force: true });
    }
  });
});
