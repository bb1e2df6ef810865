/**
 * Opcode loaders for scalars: ints, floats, bools and None, text strings, and bytes (kept as
 * ranges of the input, never read). Named after CPython's load_* functions (Modules/_pickle.c).
 */
import { MAX_LONG_BYTES } from './machine-limits.js';
import type { MachineState } from './machine-state.js';
import {
  decodeLatin1,
  decodeLong,
  escapeDecode,
  intValue,
  parsePythonFloat,
  rawUnicodeEscapeDecode,
} from './text.js';

// --- constants

export function loadInt(m: MachineState): void {
  const text = m.asciiLine('INT');
  // Python 2 wrote bools as INT 00 / 01 (pickle.py load_int).
  m.push(text === '00' ? false : text === '01' ? true : m.decimal(text));
}

export function loadLong(m: MachineState): void {
  const text = m.asciiLine('LONG');
  m.push(m.decimal(text.endsWith('L') ? text.slice(0, -1) : text));
}

export function loadLong1(m: MachineState): void {
  m.push(intValue(decodeLong(m.take(m.take(1, 'LONG1 length')[0]!, 'LONG1'))));
}

export function loadLong4(m: MachineState): void {
  const n = m.int32('LONG4 length');
  if (n < 0) m.valueError(`negative byte count ${n}`);
  if (n > MAX_LONG_BYTES) m.limit('LONG4 size', n, MAX_LONG_BYTES, 'CVE-2020-10735');
  m.push(intValue(decodeLong(m.take(n, 'LONG4'))));
}

export function loadFloat(m: MachineState): void {
  const value = parsePythonFloat(m.asciiLine('FLOAT'));
  if (value === undefined) m.valueError('not a float');
  m.push(value);
}

export function loadBinFloat(m: MachineState): void {
  // Big-endian, unlike every other binary argument (pickletools: float8).
  m.push(m.view(8, 'BINFLOAT').getFloat64(0, false));
}

// --- strings

export function loadString(m: MachineState): void {
  const raw = m.line('STRING');
  const q = raw[0];
  if (raw.length < 2 || (q !== 0x22 && q !== 0x27) || raw[raw.length - 1] !== q) {
    m.valueError('the STRING argument must be quoted');
  }
  const bytes = escapeDecode(raw.subarray(1, raw.length - 1));
  if (!bytes) m.valueError('bad escape in STRING');
  m.push(decodeLatin1(bytes));
}

export function loadBinString(m: MachineState): void {
  const n = m.int32('BINSTRING length');
  if (n < 0) m.valueError(`negative byte count ${n}`);
  m.checkText(n, 'BINSTRING');
  m.push(decodeLatin1(m.take(n, 'BINSTRING')));
}

export function loadShortBinString(m: MachineState): void {
  m.push(decodeLatin1(m.take(m.take(1, 'length')[0]!, 'SHORT_BINSTRING')));
}

export function loadUnicode(m: MachineState): void {
  const text = rawUnicodeEscapeDecode(m.line('UNICODE'));
  if (text === undefined) m.valueError('bad \\u escape in UNICODE');
  m.push(text);
}

export function loadShortBinUnicode(m: MachineState): void {
  m.push(m.utf8(m.take(m.take(1, 'length')[0]!, 'SHORT_BINUNICODE')));
}

export function loadBinUnicode(m: MachineState): void {
  const n = m.int32('BINUNICODE length') >>> 0;
  m.checkText(n, 'BINUNICODE');
  m.push(m.utf8(m.take(n, 'BINUNICODE')));
}

export function loadBinUnicode8(m: MachineState): void {
  const n = m.length8('BINUNICODE8');
  m.checkText(n, 'BINUNICODE8 length');
  m.push(m.utf8(m.take(n, 'BINUNICODE8')));
}

// --- bytes: kept as ranges of the input

/** SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8 once their length is read. */
export function loadBytes(m: MachineState, length: number, bytearray: boolean): void {
  const start = m.pos;
  // Stepped over, not read: a 1 GB array pickled inline stays on disk until asked for.
  m.ensure(length, m.op.name);
  m.pos += length;
  m.push({ kind: 'bytes', bytearray, start, length, offset: m.opStart });
}
