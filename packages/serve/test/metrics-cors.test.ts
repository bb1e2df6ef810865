import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, startTestServer, type TestServer } from './test-server.helper.js';

// The registry's web UI (another origin under `ferry up`) reads a server's /metrics from the page:
// only the origins the server names may.
describe('/metrics CORS', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(FIXTURES, { metricsCorsOrigins: ['http://127.0.0.1:8080'] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lets a named origin read the metrics, and no other', async () => {
    const allowed = await fetch(`${t.url}/metrics`, { headers: { origin: 'http://127.0.0.1:8080' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8080');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    const other = await fetch(`${t.url}/metrics`, { headers: { origin: 'http://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
