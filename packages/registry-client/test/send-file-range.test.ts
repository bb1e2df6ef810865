import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFileRange } from '../src/send-file-range.js';

const dir = await mkdtemp(join(tmpdir(), 'ferry-send-'));
// 3.5 MiB: several turns of both reused buffers, so a buffer reused too early would show.
const bytes = randomBytes(3.5 * 1024 * 1024);
const path = join(dir, 'file.bin');
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return; // the test that sends past the end aborts its request
  }
  res.end(Buffer.concat(chunks).toString('base64'));
});
let url = '';

beforeAll(async () => {
  await writeFile(path, bytes);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function send(start: number, end: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': end - start + 1 } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve(Buffer.from(text, 'base64')));
    });
    req.on('error', reject);
    sendFileRange(req, path, start, end).catch(reject);
  });
}

describe('sendFileRange', () => {
  it('sends the whole file byte-exactly', async () => {
    expect((await send(0, bytes.length - 1)).equals(bytes)).toBe(true);
  });

  it('sends an inclusive range from the middle', async () => {
    const start = 1024 * 1024 - 3;
    const end = 3 * 1024 * 1024 + 5;
    expect((await send(start, end)).equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it('rejects a range past the end of the file, naming it', async () => {
    const req = request(url, { method: 'PUT' });
    req.on('error', () => {});
    await expect(sendFileRange(req, path, bytes.length - 10, bytes.length + 10)).rejects.toThrow(
      `${path} ended at byte ${bytes.length}`,
    );
    req.destroy();
  });
});
