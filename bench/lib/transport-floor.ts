/**
 * What bounds a verified network transfer on this machine, measured on the same file as the
 * transfer itself: one sha256 pass (every push and pull hashes each byte once on each side) and
 * one node:http loopback GET with nothing else done (no hashing, no disk write). A registry
 * transfer cannot beat either, and on two cores the two mostly add up.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256File } from '@ferry/formats';

export async function sha256Seconds(path: string): Promise<number> {
  const start = process.hrtime.bigint();
  await sha256File(path);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function httpLoopbackSeconds(path: string): Promise<number> {
  const size = statSync(path).size;
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const start = process.hrtime.bigint();
    const received = await new Promise<number>((resolve, reject) =>
      get(url, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        response.on('end', () => resolve(bytes));
        response.on('error', reject);
      }).on('error', reject),
    );
    if (received !== size) throw new Error(`loopback GET got ${received} of ${size} bytes`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    server.close();
  }
}
