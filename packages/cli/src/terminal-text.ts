import type { CliIO } from './io.js';

/**
 * Characters a terminal acts on instead of printing: C0 controls (ESC starts CSI/OSC sequences
 * that move the cursor and erase lines, CR and BS overwrite, BEL rings), DEL, C1 controls
 * (U+009B is an 8-bit CSI), the line/paragraph separators, and the bidi marks, embeddings,
 * overrides and isolates that reorder what follows (CVE-2021-42574, "Trojan Source").
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** The same, but newline and tab pass: what ferry's own multi-line output is made of. */
const CONTROL_IN_LINES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** What JSON.stringify leaves raw in strings: its newlines and indentation are its own. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

function visible(char: string): string {
  const code = char.codePointAt(0)!;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * A value from a file (a pickle global, a tensor name, a finding, a path) made printable on one
 * line: every control character becomes visible `\xNN` or `\u{NNNN}`, newlines included, so a
 * crafted name can neither erase lines above nor print a line of its own.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL, visible);
}

/** ferry's own output, newlines and tabs kept: the backstop for any field a command forgot. */
export function terminalLines(text: string): string {
  return text.replace(CONTROL_IN_LINES, visible);
}

/** JSON text with the characters JSON.stringify leaves raw (DEL, C1, bidi) as `\uNNNN` escapes. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(RAW_IN_JSON, (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

type Stream = CliIO['stdout'];

/** Where the unescaped write of a wrapped stream lives: only the progress bar draws with CR and ESC. */
const RAW_WRITE = Symbol('ferry.rawWrite');

function escaped(stream: Stream): Stream {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const write = (chunk: unknown, ...rest: unknown[]): boolean =>
    original(typeof chunk === 'string' ? terminalLines(chunk) : chunk, ...rest);
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'write') return write;
      if (key === RAW_WRITE) return original;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The IO a command gets: text written to stdout or stderr passes through terminalLines, so no
 * control character from a file reaches the terminal raw whatever a command prints (bytes, such
 * as a file streamed to stdout, pass untouched).
 */
export function terminalIO(io: CliIO): CliIO {
  return { stdout: escaped(io.stdout), stderr: escaped(io.stderr) };
}

/** Writes terminal control text as is (the progress bar's CR and erase-line); the text must be ferry's own. */
export function writeRaw(stream: Stream, text: string): void {
  const raw = (stream as unknown as Record<symbol, ((text: string) => boolean) | undefined>)[RAW_WRITE];
  if (raw) raw(text);
  else stream.write(text);
}
