import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookTargets } from './webhook-target.js';

/**
 * POSTs one webhook body and answers the HTTP status. The host is resolved and checked first and
 * the connection goes to exactly the addresses that were checked (the socket's `lookup` answers
 * them instead of asking DNS again), so a name that resolves to a public address at the check and
 * to 127.0.0.1 at connect time (DNS rebinding) cannot slip through. Redirects are not followed.
 * Throws WebhookTargetRefused for a refused target, the socket's error otherwise.
 */
export async function postWebhook(
  targets: WebhookTargets,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const parsed = new URL(url);
  const addresses = await targets.resolve(parsed.hostname);
  const pinned: LookupFunction = (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((a) => wanted === undefined || a.family === wanted);
    if (usable.length === 0) {
      const error = Object.assign(new Error('no checked address of the requested family'), {
        code: 'ENOTFOUND',
      });
      (callback as (e: Error) => void)(error);
      return;
    }
    if (options.all) (callback as (e: null, a: typeof usable) => void)(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    lookup: pinned,
    signal: AbortSignal.timeout(timeoutMs),
  };
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(parsed, options, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
