import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Response bodies read into memory by this path: upload answers are empty or a short error (CWE-770). */
const MAX_SMALL_RESPONSE = 1024 * 1024;

/**
 * Sends a request whose body is a buffer through node:http(s) and answers a fetch Response. Used
 * for upload chunks: undici's fetch copies and re-slices large buffer bodies, which made 32 MiB
 * PATCHes to a loopback registry about twice as slow as curl; node:http writes the buffer as is.
 * (The registry client in client.ts made the same choice for its file uploads.)
 */
export function sendBuffer(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Response> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method, headers: { ...headers, 'content-length': String(body.byteLength) } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_SMALL_RESPONSE) chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : value);
          const status = res.statusCode ?? 500;
          const nullBody = status === 204 || status === 304 || method === 'HEAD';
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: out }));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A GET whose body is streamed (blobs): node:http's IncomingMessage, which reads in larger pieces than fetch's web stream. */
export function streamGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: import('node:http').IncomingMessage }> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'GET', headers }, (res) => {
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers))
        if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : value);
      resolve({ status: res.statusCode ?? 500, headers: out, body: res });
    });
    req.on('error', reject);
    req.end();
  });
}
