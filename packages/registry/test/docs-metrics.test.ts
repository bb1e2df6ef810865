import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/** A sample's value from Prometheus text (undefined when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-z_]+=)/).filter(Boolean);
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('registry /docs page and /metrics', () => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let work: string;
  let token: string;
  beforeAll(async () => {
    backend = await BACKENDS[0]!.open();
    work = await mkdtemp(join(tmpdir(), 'ferry-docs-'));
    const tokenFile = join(work, 'admin-token');
    server = await startServer(backend!, { adminTokenFile: tokenFile });
    token = (await readFile(tokenFile, 'utf8')).trim();
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('/docs is a self-contained HTML page listing every operation of /openapi.json', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const response = await fetch(`${server.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    // nothing loads from elsewhere: no script at all, styles inline
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!127\.0\.0\.1)/);
    expect(html).toContain('href="/openapi.json"');
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const escaped = path.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
        expect(html).toContain(
          `<span class="m m-${method}">${method.toUpperCase()}</span> <code>${escaped}</code>`,
        );
        if (op.summary)
          expect(html).toContain(op.summary.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`));
      }
    expect(html).toContain(`${operations} operations`);
    expect(operations).toBeGreaterThan(30);
    // parameters and body schemas are written out: the list route's limit with its range and default
    expect(html).toMatch(/<code>limit<\/code>/);
    expect(html).toContain('// 1..1000, default 100');
  });

  it('/metrics counts requests by route pattern and status, with standard process metric names', async () => {
    const client = new RegistryClient({ url: server.url, token });
    await client.createModel({ name: 'team/metered' });
    for (let i = 0; i < 3; i++) await client.getModel('team/metered');
    await fetch(`${server.url}/api/v1/models/team%2Fnope`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${server.url}/no/such/path/${Math.random()}`);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const route = '/api/v1/models/:model';
    expect(sample(text, 'ferry_registry_http_requests_total', { method: 'GET', route, status: '200' })).toBe(
      3,
    );
    expect(sample(text, 'ferry_registry_http_requests_total', { method: 'GET', route, status: '404' })).toBe(
      1,
    );
    expect(
      sample(text, 'ferry_registry_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBe(1);
    expect(
      sample(text, 'ferry_registry_http_request_duration_seconds_count', {
        method: 'GET',
        route,
        status: '200',
      }),
    ).toBe(3);
    expect(text).not.toContain('team/metered'); // a route pattern, never a model name
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    expect(text).not.toMatch(/process_process|ferry_process_/);
  });
});
