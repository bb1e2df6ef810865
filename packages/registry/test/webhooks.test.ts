import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import type { Delivery } from '../src/store/webhooks.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/** A real HTTP receiver that fails its first answers, to exercise retries. */
async function receiver(failFirst: number): Promise<{
  url: string;
  calls: { headers: IncomingHttpHeaders; body: string }[];
  close: () => Promise<void>;
}> {
  const calls: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => {
      body += c;
    });
    request.on('end', () => {
      calls.push({ headers: request.headers, body });
      response.statusCode = calls.length <= failFirst ? 503 : 204;
      response.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function until<T>(fn: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await fn();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 10 s');
}

describe.each(BACKENDS)('webhooks on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let client: RegistryClient;
  let work: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend, {
      webhooks: { pollMs: 50, baseDelayMs: 100, maxAttempts: 3 },
      // The receivers listen on loopback, which webhooks may reach only when allowed.
      webhookTargets: { allow: ['127.0.0.0/8'] },
    });
    client = new RegistryClient({ url: server.url, token: server.adminToken! });
    work = await mkdtemp(join(tmpdir(), 'ferry-hooks-'));
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const subscribe = async (url: string, events: string[], model?: string) =>
    (await (
      await client.request('POST', '/api/v1/webhooks', {
        json: { url, events, ...(model && { model }), secret: 'a-very-secret-secret' },
      })
    ).json()) as { id: string; secret: string };
  const deliveries = async (id: string) =>
    (
      (await (await client.request('GET', `/api/v1/webhooks/${id}/deliveries`)).json()) as {
        deliveries: Delivery[];
      }
    ).deliveries;

  it('signs each event with HMAC-SHA256, retries with backoff and logs every delivery', async ({ skip }) => {
    if (!backend) skip();
    const sink = await receiver(1);
    try {
      const hook = await subscribe(sink.url, ['version.created', 'alias.moved', 'tag.changed'], 'hooks/*');
      const other = await subscribe(sink.url, ['tag.changed'], 'elsewhere/m');
      const file = join(work, 'w.bin');
      await writeFile(file, 'weights');
      await client.push(file, { model: 'hooks/m', alias: 'prod' });
      await client.setModelTag('hooks/m', 'stage', 'beta');
      const log = await until(
        () => deliveries(hook.id),
        (d) => d.length === 3 && d.every((x) => x.status === 'delivered'),
      );
      expect(log.map((d) => d.event)).toEqual(['version.created', 'alias.moved', 'tag.changed']);
      // The receiver refused the first POST: that delivery took two attempts.
      expect(log.map((d) => d.attempts).sort()).toEqual([1, 1, 2]);
      expect(log.every((d) => d.lastStatus === 204)).toBe(true);
      expect(sink.calls).toHaveLength(4);
      for (const call of sink.calls) {
        const expected = `sha256=${createHmac('sha256', 'a-very-secret-secret').update(call.body).digest('hex')}`;
        expect(call.headers['x-ferry-signature-256']).toBe(expected);
        expect(call.headers['content-type']).toBe('application/json');
      }
      const alias = sink.calls.map((c) => JSON.parse(c.body)).find((b) => b.event === 'alias.moved');
      expect(alias).toMatchObject({
        target: 'models:/hooks/m@prod',
        model: 'hooks/m',
        actor: 'admin',
        before: null,
        after: { version: 1 },
      });
      expect(await deliveries(other.id)).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('gives up after maxAttempts and marks the delivery failed', async ({ skip }) => {
    if (!backend) skip();
    const sink = await receiver(100);
    try {
      const hook = await subscribe(sink.url, ['tag.changed'], 'hooks/m');
      await client.setModelTag('hooks/m', 'owner', 'ml');
      const log = await until(
        () => deliveries(hook.id),
        (d) => d.length === 1 && d[0]!.status === 'failed',
      );
      expect(log[0]).toMatchObject({ attempts: 3, lastStatus: 503, lastError: 'HTTP 503' });
      expect(sink.calls).toHaveLength(3);
    } finally {
      await sink.close();
    }
  });

  it('only admins subscribe (the server would call any URL)', async ({ skip }) => {
    if (!backend) skip();
    const writer = new RegistryClient({
      url: server.url,
      token: (await client.createToken('wendy', ['write:*'])).token,
    });
    await expect(
      writer.request('POST', '/api/v1/webhooks', {
        json: { url: 'http://127.0.0.1:1/x', events: ['tag.changed'] },
      }),
    ).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_FORBIDDEN',
    });
    await expect(
      client.request('POST', '/api/v1/webhooks', {
        json: { url: 'file:///etc/passwd', events: ['tag.changed'] },
      }),
    ).rejects.toMatchObject({
      code: 'FERRY_REGISTRY_BAD_REQUEST',
    });
  });
});
