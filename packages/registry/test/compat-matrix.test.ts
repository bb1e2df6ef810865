import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPAT_MATRIX, renderCompatMatrix } from '../src/api/compat-matrix.js';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const DOC = join(import.meta.dirname, '../../../docs/registry.md');
const START = '<!-- compat-matrix:start -->';
const END = '<!-- compat-matrix:end -->';

/**
 * Walks the compatibility matrix: docs/registry.md holds it as rendered, the server routes exactly
 * its supported and mapped rows, refused rows are not routed (MLflow answers ENDPOINT_NOT_FOUND),
 * and every Hub or MLflow route the server has is a row. `UPDATE_DOCS=1` rewrites the doc's copy.
 */
describe('Hub and MLflow compatibility matrix', () => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };

  beforeAll(async () => {
    // Routing does not depend on the backend: the embedded one is enough.
    backend = await BACKENDS[0]!.open();
    server = await startServer(backend!);
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('docs/registry.md holds the matrix as rendered', async () => {
    const doc = await readFile(DOC, 'utf8');
    const at = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(at).toBeGreaterThan(0);
    const table = doc.slice(at + START.length, end).trim();
    if (process.env.UPDATE_DOCS === '1' && table !== renderCompatMatrix()) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(DOC, `${doc.slice(0, at + START.length)}\n${renderCompatMatrix()}\n${doc.slice(end)}`);
      return;
    }
    expect(table).toBe(renderCompatMatrix());
  });

  it('the server routes exactly the supported and mapped rows', async () => {
    const wrong: string[] = [];
    for (const row of COMPAT_MATRIX)
      for (const method of row.methods) {
        const routed = server.app.hasRoute({ method: method as 'GET', url: row.path });
        if (routed !== (row.support !== 'refused')) wrong.push(`${method} ${row.path} (${row.support})`);
      }
    expect(wrong).toEqual([]);
    // A refused Hub endpoint answers in the Hub's error shape (a string the clients show).
    for (const row of COMPAT_MATRIX.filter((r) => r.api === 'Hub' && r.support === 'refused')) {
      const url = row.path.replace(/:(\w+)/g, 'x');
      const response = await fetch(`${server.url}${url}`, { method: row.methods[0] });
      expect([url, response.status, typeof (await response.json()).error]).toEqual([url, 404, 'string']);
      expect(response.headers.get('x-error-message')).toMatch(/does not exist/);
    }
    // A refused MLflow endpoint answers as MLflow's server does for an unknown one.
    for (const row of COMPAT_MATRIX.filter((r) => r.api === 'MLflow' && r.support === 'refused')) {
      const response = await fetch(`${server.url}${row.path}`, {
        method: row.methods[0],
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      expect([row.path, response.status, (await response.json()).error_code]).toEqual([
        row.path,
        404,
        'ENDPOINT_NOT_FOUND',
      ]);
    }
  });

  it('every Hub and MLflow route of the server is a row', async () => {
    const spec = server.app.swagger() as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const rows = new Set(COMPAT_MATRIX.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)));
    const missing: string[] = [];
    let walked = 0;
    for (const [path, methods] of Object.entries(spec.paths))
      for (const [method, op] of Object.entries(methods)) {
        if (!op.tags?.some((t) => t === 'hub' || t === 'mlflow')) continue;
        walked++;
        // OpenAPI spells parameters {name}; fastify's wildcard becomes {*}.
        const route = path.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');
        if (!rows.has(`${method.toUpperCase()} ${route}`)) missing.push(`${method.toUpperCase()} ${route}`);
      }
    expect(missing).toEqual([]);
    // The OpenAPI document leaves HEAD routes out; hasRoute above checked them.
    expect(walked).toBe(
      COMPAT_MATRIX.filter((r) => r.support !== 'refused')
        .flatMap((r) => r.methods)
        .filter((m) => m !== 'HEAD').length,
    );
  });
});
