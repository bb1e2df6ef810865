import { createHmac } from 'node:crypto';

/**
 * `sha256=HEX`: HMAC-SHA256 of the exact body bytes with the webhook's secret (GitHub's scheme).
 * The registry signs deliveries with it; a receiver (ferry serve following an alias) checks them.
 */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
