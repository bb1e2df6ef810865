/**
 * Decoders for the text arguments of protocol 0 (STRING, UNICODE, INT, LONG, FLOAT), following
 * CPython's Lib/pickle.py (load_string: codecs.escape_decode; load_unicode: raw-unicode-escape;
 * load_int / load_long: int(data, 0)). Each returns undefined for text CPython would reject.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Bytes -> str one code point per byte, as pickle's `encoding='latin1'` does for py2 strings. */
export function decodeLatin1(bytes: Uint8Array): string {
  // Not TextDecoder('latin1'): per the WHATWG spec that is windows-1252. Map bytes directly.
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
};

/** codecs.escape_decode of a quoted STRING argument (quotes already removed). */
export function escapeDecode(bytes: Uint8Array): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    if (++i >= bytes.length) return undefined; // "Trailing \ in string"
    const c = String.fromCharCode(bytes[i]!);
    if (c in SIMPLE_ESCAPES) out.push(SIMPLE_ESCAPES[c]!);
    else if (c === '\n') continue;
    else if (c === 'x') {
      const hex = String.fromCharCode(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c >= '0' && c <= '7') {
      let value = 0;
      let n = 0;
      while (n < 3 && i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x37) {
        value = value * 8 + (bytes[i]! - 0x30);
        i++;
        n++;
      }
      i--;
      out.push(value & 0xff);
    } else {
      // An unknown escape keeps its backslash (with a DeprecationWarning in CPython).
      out.push(0x5c, bytes[i]!);
    }
  }
  return Uint8Array.from(out);
}

/** raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes; every other byte is a code point. */
export function rawUnicodeEscapeDecode(bytes: Uint8Array): string | undefined {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x5c && (bytes[i + 1] === 0x75 || bytes[i + 1] === 0x55)) {
      // An odd run of backslashes before the u is an escape; CPython counts them. A single one
      // is the case picklers write (they escape the backslash itself as \u005c).
      const digits = bytes[i + 1] === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...bytes.subarray(i + 2, i + 2 + digits));
      if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      i += 1 + digits;
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

/** CPython int(text, 0): optional sign, 0x/0o/0b prefixes, underscores between digits. */
export function parsePythonInt(text: string): bigint | undefined {
  const t = text.trim();
  const match =
    /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?\d)*)$/.exec(t);
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1n : 1n;
  const body = match[2]!.replaceAll('_', '');
  return sign * BigInt(body);
}

/** CPython float(text): decimal, exponent, inf/infinity/nan in any case. */
export function parsePythonFloat(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return Number.NaN;
  if (!/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/.test(t)) return undefined;
  return Number(t.replaceAll('_', ''));
}

/** Little-endian two's complement (LONG1/LONG4). */
export function decodeLong(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, '0');
  let value = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** A Python int as JS: a number when exact, else a bigint. */
export function intValue(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
