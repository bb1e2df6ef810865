import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequest, LoadConnection, parseResponseHead } from './http-load-client.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const send = (connection: LoadConnection) =>
  new Promise<{ error: Error | undefined; status: number }>((resolve) =>
    connection.send((error, status) => resolve({ error, status })),
  );

describe('load generator HTTP client', () => {
  it('sends the prebuilt request a server reads as sent, again and again on one connection', async () => {
    const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
    const port = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({
            method: req.method,
            url: req.url,
            type: req.headers['content-type'],
            body: Buffer.concat(chunks).toString(),
          });
          res.writeHead(seen.length === 3 ? 503 : 200, {
            'content-type': 'text/plain',
            'content-length': 10_000,
          });
          res.end('x'.repeat(10_000)); // several reads' worth
        });
      }),
    );
    const request = encodeRequest(`127.0.0.1:${port}`, {
      method: 'POST',
      path: '/v2/models/m/infer',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"inputs":[]}'),
    });
    const connection = await LoadConnection.open('127.0.0.1', port, request);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(connection)).status);
      expect(statuses).toEqual([200, 200, 503, 200]);
      expect(seen).toHaveLength(4);
      expect(seen[0]).toEqual({
        method: 'POST',
        url: '/v2/models/m/infer',
        type: 'application/json',
        body: '{"inputs":[]}',
      });
    } finally {
      connection.close();
    }
  });

  it('reads a head split across reads and an empty body', async () => {
    const port = await listen(
      createTcpServer((socket) => {
        socket.setNoDelay(true);
        socket.once('data', () => {
          socket.write('HTTP/1.1 204 No Content\r\nContent-Le');
          setTimeout(() => socket.write('ngth: 0\r\n\r\n'), 20);
        });
      }),
    );
    const connection = await LoadConnection.open('127.0.0.1', port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    try {
      expect(await send(connection)).toEqual({ error: undefined, status: 204 });
    } finally {
      connection.close();
    }
  });

  it('fails the request in flight when the server hangs up or answers without a length', async () => {
    const port = await listen(
      createTcpServer((socket) => {
        socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
      }),
    );
    const connection = await LoadConnection.open('127.0.0.1', port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    try {
      expect((await send(connection)).error?.message).toMatch(/without Content-Length/);
      // the connection is closed now: later sends fail at once instead of waiting forever
      expect((await send(connection)).error?.message).toBe('connection closed');
      expect((await send(connection)).error?.message).toBe('connection closed');
    } finally {
      connection.close();
    }
  });

  it('parses status and length case-insensitively and refuses what is not HTTP/1.x', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nCONTENT-LENGTH:  42')).toEqual({ status: 200, length: 42 });
    expect(() => parseResponseHead('SSH-2.0-OpenSSH')).toThrow(/not an HTTP\/1.1 response/);
  });
});
