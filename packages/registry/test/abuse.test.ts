import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import { REFUSED_DELIVERY } from '../src/api/webhook-target.js';
import { MAX_OPEN_UPLOADS_PER_USER } from '../src/limits.js';
import type { Delivery } from '../src/store/webhooks.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/**
 * The registry under abuse (issue #24 items 11-13), over real sockets on both backends: failed
 * authentications do not lock out valid tokens, upload sessions belong to their creator and expire,
 * file names with control characters are refused, and webhooks do not reach private addresses.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** A plain HTTP call with an explicit Authorization header (the client would add its own). */
async function call(
  url: string,
  path: string,
  init: { method?: string; token?: string; body?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined && { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** An upload call with the octet-stream body and headers the transfer routes take. */
async function upload(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: Uint8Array,
  offset?: number,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body) headers['content-type'] = 'application/octet-stream';
  if (offset !== undefined) headers['upload-offset'] = String(offset);
  const response = await fetch(`${url}${path}`, { method, headers, ...(body && { body }) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

/** A loopback receiver that counts the POSTs it gets. */
async function receiver(): Promise<{ port: number; calls: number; close: () => Promise<void> }> {
  const state = { port: 0, calls: 0, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    state.calls++;
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  state.close = () => new Promise((r) => server.close(() => r(undefined)));
  return state;
}

async function until<T>(fn: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await fn();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 10 s');
}

describe.each(BACKENDS)('registry under abuse on $name', (spec) => {
  let backend: Backend | undefined;
  let adminToken: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    // The first start creates the admin token; every later server in this suite reuses the data.
    const first = await startServer(backend, { webhooks: false });
    adminToken = first.adminToken!;
    await first.close();
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('throttles bad tokens per address with 429 + Retry-After, never a valid token, until the window passes', async ({
    skip,
  }) => {
    if (!backend) skip();
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const server = await startServer(backend!, {
      webhooks: false,
      authLimits: { maxFailures: 10, windowMs: 60_000, now: () => clock },
    });
    try {
      const bad = `ferry_${'A'.repeat(43)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++)
        statuses.push((await call(server.url, '/api/v1/whoami', { token: bad })).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(40).fill(429));
      const limited = await call(server.url, '/api/v1/whoami', { token: 'not-a-token' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBe(60);
      expect(JSON.parse(limited.text).error.code).toBe('FERRY_REGISTRY_RATE_LIMITED');
      // The same address with a valid token: admitted at once, again and again.
      for (let i = 0; i < 5; i++) {
        const ok = await call(server.url, '/api/v1/whoami', { token: adminToken });
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.text).user).toBe('admin');
      }
      // Anonymous reads are not authentication failures either.
      expect((await call(server.url, '/api/v1/models')).status).toBe(200);
      clock += 30_000;
      expect((await call(server.url, '/api/v1/whoami', { token: bad })).status).toBe(429);
      clock += 31_000;
      // The window has passed: a bad token is an ordinary 401 again, and counts anew.
      expect((await call(server.url, '/api/v1/whoami', { token: bad })).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('binds upload sessions to their creator: another writer gets 404 on every verb', async ({ skip }) => {
    if (!backend) skip();
    const server = await startServer(backend!, { webhooks: false });
    try {
      const admin = new RegistryClient({ url: server.url, token: adminToken });
      const alice = (await admin.createToken('alice', ['write:*'])).token;
      const bob = (await admin.createToken('bob', ['write:*'])).token;
      const started = await upload(server.url, alice, 'POST', '/api/v1/uploads');
      expect(started.status).toBe(201);
      const path = `/api/v1/uploads/${started.json.id}`;
      const chunk = randomBytes(1000);
      expect((await upload(server.url, alice, 'PATCH', path, chunk, 0)).json.offset).toBe(1000);

      const digest = `sha256:${'0'.repeat(64)}`;
      expect((await upload(server.url, bob, 'GET', path)).status).toBe(404);
      expect((await upload(server.url, bob, 'PATCH', path, randomBytes(10), 1000)).status).toBe(404);
      expect((await upload(server.url, bob, 'PUT', `${path}?digest=${digest}`)).status).toBe(404);
      expect((await upload(server.url, bob, 'DELETE', path)).status).toBe(404);
      // Bob's 404 reads exactly like a session that never existed.
      const missing = await upload(
        server.url,
        bob,
        'GET',
        '/api/v1/uploads/00000000-0000-0000-0000-000000000000',
      );
      expect(missing.json).toEqual({
        error: {
          code: 'FERRY_REGISTRY_NOT_FOUND',
          message: 'upload 00000000-0000-0000-0000-000000000000 does not exist',
        },
      });

      // Alice's session is untouched by all that.
      expect((await upload(server.url, alice, 'GET', path)).json.offset).toBe(1000);
      expect((await upload(server.url, alice, 'DELETE', path)).status).toBe(204);
    } finally {
      await server.close();
    }
  });

  it('caps the unfinished uploads one user holds (409), without touching other users', async ({ skip }) => {
    if (!backend) skip();
    const server = await startServer(backend!, { webhooks: false });
    try {
      const admin = new RegistryClient({ url: server.url, token: adminToken });
      const dave = (await admin.createToken('dave', ['write:*'])).token;
      const erin = (await admin.createToken('erin', ['write:*'])).token;
      const ids: string[] = [];
      for (let i = 0; i < MAX_OPEN_UPLOADS_PER_USER; i++) {
        const started = await upload(server.url, dave, 'POST', '/api/v1/uploads');
        expect(started.status).toBe(201);
        ids.push(String(started.json.id));
      }
      const over = await upload(server.url, dave, 'POST', '/api/v1/uploads');
      expect(over.status).toBe(409);
      expect(JSON.stringify(over.json)).toMatch(/holds 256 unfinished uploads/);
      expect((await upload(server.url, erin, 'POST', '/api/v1/uploads')).status).toBe(201);
      // Finishing or abandoning one frees a place.
      expect((await upload(server.url, dave, 'DELETE', `/api/v1/uploads/${ids[0]}`)).status).toBe(204);
      expect((await upload(server.url, dave, 'POST', '/api/v1/uploads')).status).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('removes upload sessions idle past the TTL with their bytes, at start (after a kill -9) and strays without a row', async ({
    skip,
  }) => {
    if (!backend) skip();
    const uploads = join(backend!.serveArgs.data, 'blobs', 'uploads');
    const folder = backend!.serveArgs.blobs === undefined;
    let first = await startServer(backend!, { webhooks: false });
    const admin = new RegistryClient({ url: first.url, token: adminToken });
    const carol = (await admin.createToken('carol', ['write:*'])).token;
    const started = await upload(first.url, carol, 'POST', '/api/v1/uploads');
    const id = String(started.json.id);
    const big = randomBytes(4 * 1024 * 1024);
    expect((await upload(first.url, carol, 'PATCH', `/api/v1/uploads/${id}`, big, 0)).json.offset).toBe(
      big.length,
    );
    // The process dies without finishing or abandoning the upload; the row and the bytes stay.
    await first.close();
    if (folder) expect((await stat(join(uploads, id))).size).toBe(big.length);
    // A temp file no session names (a whole-blob PUT cut off by kill -9), last written two days ago.
    const stray = join(uploads, 'put-11111111-2222-3333-4444-555555555555');
    if (folder) {
      await mkdir(uploads, { recursive: true });
      await writeFile(stray, randomBytes(1024));
      const old = new Date(Date.now() - 2 * DAY_MS);
      await utimes(stray, old, old);
    }

    // A restart within the TTL keeps the session: it can still be resumed.
    first = await startServer(backend!, { webhooks: false });
    expect((await upload(first.url, carol, 'GET', `/api/v1/uploads/${id}`)).json.offset).toBe(big.length);
    await first.close();

    // A restart a day and a bit later: the session and its partial bytes are gone, so is the stray.
    const later = await startServer(backend!, {
      webhooks: false,
      uploads: { now: () => Date.now() + DAY_MS + 60_000 },
    });
    try {
      expect((await upload(later.url, carol, 'GET', `/api/v1/uploads/${id}`)).status).toBe(404);
      if (folder) expect(await readdir(uploads)).toEqual([]);
    } finally {
      await later.close();
    }
  });

  it('refuses file names with control characters, backslashes, .. and absolute paths (400)', async ({
    skip,
  }) => {
    if (!backend) skip();
    const server = await startServer(backend!, { webhooks: false });
    try {
      const admin = new RegistryClient({ url: server.url, token: adminToken });
      await admin.createModel({ name: 'abuse/names' });
      const file = (path: string) => ({ path, sha256: 'a'.repeat(64), size: 1 });
      for (const [path, reason] of [
        ['evil\nOK.bin', /control characters \(U\+000A/],
        ['evil\r.bin', /control characters \(U\+000D/],
        ['nul\u0000.bin', /control characters \(U\+0000/],
        ['del\u007f.bin', /control characters \(U\+007F/],
        ['c1\u0085.bin', /control characters \(U\+0085/],
        ['../escape.bin', /path traversal/],
        ['/etc/passwd', /must be relative/],
        ['a\\b.bin', /backslashes/],
      ] as const) {
        const answer = await call(server.url, '/api/v1/models/abuse%2Fnames/versions', {
          method: 'POST',
          token: adminToken,
          body: JSON.stringify({ files: [file(path)] }),
        });
        expect(answer.status, JSON.stringify(path)).toBe(400);
        const error = JSON.parse(answer.text).error;
        expect(error.code).toBe('FERRY_REGISTRY_BAD_PATH');
        expect(error.message).toMatch(reason);
      }
      expect((await admin.listVersions('abuse/names', true)).length).toBe(0);
      // A version's source is one line too, in the native API and in MLflow's.
      const native = await call(server.url, '/api/v1/models/abuse%2Fnames/versions', {
        method: 'POST',
        token: adminToken,
        body: JSON.stringify({
          files: [file('model.bin')],
          sourceUri: 's3://bucket/model\nINFO forged line',
        }),
      });
      expect(native.status).toBe(400);
      expect(JSON.parse(native.text).error.message).toMatch(/sourceUri: must not contain control characters/);
      const mlflow = await call(server.url, '/api/2.0/mlflow/model-versions/create', {
        method: 'POST',
        token: adminToken,
        body: JSON.stringify({ name: 'abuse/names', source: 'runs:/abc/model\r\nforged' }),
      });
      expect(mlflow.status).toBe(400);
      expect(mlflow.text).toMatch(/source: must not contain control characters \(U\+000D/);
      expect((await admin.listVersions('abuse/names', true)).length).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses webhooks to loopback, private and link-local targets at creation, unless allowed', async ({
    skip,
  }) => {
    if (!backend) skip();
    const server = await startServer(backend!, { webhooks: false });
    try {
      for (const url of [
        'http://127.0.0.1:6379/',
        'http://localhost:5432/',
        'http://[::1]:22/',
        'http://[::ffff:127.0.0.1]:80/',
        'http://0x7f000001/',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.1/',
        'http://172.16.5.4/',
        'http://192.168.1.1/',
        'http://100.64.0.1/',
        'http://0.0.0.0:8080/',
        'http://[fe80::1]/',
        'http://[fd00::1]/',
        'http://224.0.0.1/',
      ]) {
        const answer = await call(server.url, '/api/v1/webhooks', {
          method: 'POST',
          token: adminToken,
          body: JSON.stringify({ url, events: ['tag.changed'] }),
        });
        expect(answer.status, url).toBe(400);
        expect(JSON.parse(answer.text).error.message).toMatch(/non-public address.*--webhook-allow/);
      }
    } finally {
      await server.close();
    }
    const allowed = await startServer(backend!, {
      webhooks: false,
      webhookTargets: { allow: ['10.0.0.0/8'] },
    });
    try {
      const answer = await call(allowed.url, '/api/v1/webhooks', {
        method: 'POST',
        token: adminToken,
        body: JSON.stringify({ url: 'http://10.1.2.3/hook', events: ['tag.changed'] }),
      });
      expect(answer.status).toBe(201);
      await call(allowed.url, `/api/v1/webhooks/${JSON.parse(answer.text).id}`, {
        method: 'DELETE',
        token: adminToken,
      });
    } finally {
      await allowed.close();
    }
  });

  it('checks the target again at delivery: a name that now resolves to loopback is refused, and the log says only that', async ({
    skip,
  }) => {
    if (!backend) skip();
    const sink = await receiver();
    try {
      // Subscribed and delivered while `localhost` was allowed (the name resolved, checked, and the
      // connection made to the checked address)...
      const before = await startServer(backend!, {
        webhooks: { pollMs: 50, baseDelayMs: 50, maxAttempts: 3 },
        webhookTargets: { allow: ['localhost'] },
      });
      const beforeAdmin = new RegistryClient({ url: before.url, token: adminToken });
      const hook = await beforeAdmin
        .request('POST', '/api/v1/webhooks', {
          json: { url: `http://localhost:${sink.port}/hook`, events: ['tag.changed'], model: 'abuse/hooked' },
        })
        .then((r) => r.json() as Promise<{ id: string }>);
      await beforeAdmin.createModel({ name: 'abuse/hooked' });
      await beforeAdmin.setModelTag('abuse/hooked', 'stage', 'alpha');
      await until(
        async () =>
          (
            (await (await beforeAdmin.request('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).json()) as {
              deliveries: Delivery[];
            }
          ).deliveries,
        (d) => d.length === 1 && d[0]!.status === 'delivered',
      );
      expect(sink.calls).toBe(1);
      await before.close();

      // ...delivered by a server whose configuration no longer allows it.
      const server = await startServer(backend!, {
        webhooks: { pollMs: 50, baseDelayMs: 50, maxAttempts: 3 },
      });
      try {
        const admin = new RegistryClient({ url: server.url, token: adminToken });
        await admin.setModelTag('abuse/hooked', 'stage', 'beta');
        const log = await until(
          async () =>
            (
              (await (await admin.request('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).json()) as {
                deliveries: Delivery[];
              }
            ).deliveries,
          (d) => d.length === 2 && d.some((x) => x.status === 'failed'),
        );
        const refused = log.filter((x) => x.status === 'failed');
        expect(refused).toHaveLength(1);
        // Not retried, no status, no address, no port, no socket error: nothing to scan with.
        expect(refused[0]).toMatchObject({ attempts: 1, lastStatus: null, lastError: REFUSED_DELIVERY });
        expect(REFUSED_DELIVERY).toBe('refused: private address');
        expect(sink.calls).toBe(1);
      } finally {
        await server.close();
      }
    } finally {
      await sink.close();
    }
  });
});
