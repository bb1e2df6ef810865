import { once } from 'node:events';
import { createServer, type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H2SocketWriter, MAX_UNREAD_ANSWER_BYTES } from '../src/protocol/lean-h2-writer.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** A real loopback connection: the server's end and the client's, the client not reading. */
async function pair(): Promise<{ server: Socket; client: Socket }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const accepted = once(listener, 'connection');
  const client = connect(port, '127.0.0.1');
  client.pause();
  const [server] = (await accepted) as [Socket];
  listener.close();
  sockets.push(server, client);
  return { server, client };
}

describe('H2SocketWriter', () => {
  it('writes one tick in one corked write and keeps reading while the peer reads', async () => {
    const { server, client } = await pair();
    const writer = new H2SocketWriter(server);
    writer.write(Buffer.from('ab'));
    writer.write(Buffer.from('cd'));
    expect(server.writableCorked).toBe(1);
    client.resume();
    const [chunk] = (await once(client, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('abcd');
    expect(server.isPaused()).toBe(false);
  });

  it('stops reading while the peer leaves more than MAX_UNREAD_ANSWER_BYTES unread, and reads again once it drains', async () => {
    const { server, client } = await pair();
    server.resume();
    const writer = new H2SocketWriter(server);
    const piece = Buffer.alloc(2 ** 20, 1);
    for (let sent = 0; sent <= MAX_UNREAD_ANSWER_BYTES; sent += piece.length) writer.write(piece);
    expect(server.isPaused()).toBe(true);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.resume();
    await once(server, 'drain');
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toBeGreaterThan(0);
    expect(server.isPaused()).toBe(false);
  });
});
