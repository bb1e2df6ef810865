import type { Socket } from 'node:net';

/**
 * Answers written but not yet taken by the peer's TCP: past this the connection stops reading
 * (no new calls, no new window) until the socket drains, so a client that keeps calling and never
 * reads holds this much of the server's memory, not an unbounded queue of answers.
 */
export const MAX_UNREAD_ANSWER_BYTES = 8 * 2 ** 20;

/**
 * A lean HTTP/2 connection's writes: corked until the end of the tick, so the answers and frames
 * of one turn go out in one write, and reading paused while the peer leaves more than
 * MAX_UNREAD_ANSWER_BYTES unread.
 */
export class H2SocketWriter {
  private corked = false;
  private readingPaused = false;

  constructor(private readonly socket: Socket) {}

  write(bytes: Buffer): void {
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(bytes);
    if (!this.readingPaused && socket.writableLength > MAX_UNREAD_ANSWER_BYTES) {
      this.readingPaused = true;
      socket.pause();
      socket.once('drain', () => {
        this.readingPaused = false;
        socket.resume();
      });
    }
  }
}
