import { jsonTerminalSafe } from './terminal-text.js';

/** Where a command writes: the real process streams, or buffers in tests. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export function printJson(io: CliIO, value: unknown): void {
  // JSON.stringify escapes C0 controls but leaves DEL, C1 and bidi characters raw.
  io.stdout.write(`${jsonTerminalSafe(JSON.stringify(value, jsonReplacer, 2))}\n`);
}

/** bigint has no JSON form: print it as a number when exact, else as a string. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}
