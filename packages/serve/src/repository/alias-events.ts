import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type RegistryClient, signBody } from '@ferry/registry-client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** Where the registry POSTs alias moves on the inference server's HTTP port. */
export const ALIAS_EVENTS_PATH = '/ferry/v1/registry-events';

export interface AliasEvents {
  /** Removes the subscription from the registry (on shutdown). */
  close(): Promise<void>;
}

/**
 * Adds the route the registry's `alias.moved` webhook reaches: a delivery whose
 * X-Ferry-Signature-256 is the HMAC of its body with our secret triggers an immediate poll (so a
 * promotion does not wait for the next poll interval); anything else answers 401. Polling stays
 * on either way: a lost delivery only delays the switch to the next poll.
 */
export function aliasEventsRoute(app: FastifyInstance, secret: string, onMove: () => void): void {
  app.post(ALIAS_EVENTS_PATH, async (request, reply) => {
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const given = Buffer.from(String(request.headers['x-ferry-signature-256'] ?? ''));
    const expected = Buffer.from(signBody(secret, body.toString('utf8')));
    // constant-time comparison (CWE-208): the signature is the only thing that authenticates the caller
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return reply.code(401).send({ error: 'bad or missing X-Ferry-Signature-256' });
    onMove();
    return reply.code(204).send();
  });
}

export const newEventSecret = () => randomBytes(32).toString('base64url');

/**
 * Subscribes `url` to the registry's alias.moved events (needs an admin token; without one the
 * server follows aliases by polling only). Subscriptions a previous run left at the same URL are
 * removed first, so restarts do not pile them up.
 */
export async function subscribeAliasEvents(
  client: RegistryClient,
  url: string,
  secret: string,
  log: Logger,
): Promise<AliasEvents | undefined> {
  try {
    const listed = (await (await client.request('GET', '/api/v1/webhooks')).json()) as {
      webhooks: { id: string; url: string }[];
    };
    for (const old of listed.webhooks.filter((w) => w.url === url))
      await client.request('DELETE', `/api/v1/webhooks/${old.id}`);
    const created = (await (
      await client.request('POST', '/api/v1/webhooks', { json: { url, events: ['alias.moved'], secret } })
    ).json()) as { id: string };
    log.info({ url }, 'subscribed to the registry alias.moved events');
    return {
      async close() {
        await client.request('DELETE', `/api/v1/webhooks/${created.id}`).catch(() => undefined);
      },
    };
  } catch (error) {
    log.info(
      { err: (error as Error).message },
      'not subscribed to registry events; following aliases by polling',
    );
    return undefined;
  }
}
