/**
 * POSIX ustar headers and pax extended records (POSIX.1-2001, pax "ustar Interchange Format" and
 * "pax Extended Header"). ferry writes only what it reads back: regular files, and a pax header
 * before an entry whose path or size does not fit ustar's fields.
 */

export const BLOCK = 512;
/** ustar's size field holds 11 octal digits: files of 8 GiB and more need a pax `size` record. */
export const USTAR_MAX_SIZE = 8 ** 11 - 1;
/** ustar's name field; longer (or non-ASCII) paths go in a pax `path` record. */
export const USTAR_NAME_BYTES = 100;

export const TYPE_FILE = '0';
export const TYPE_PAX = 'x';

export interface HeaderFields {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  readonly type: string;
}

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  block.set(bytes.subarray(0, length), offset);
}

/** An octal number, zero-padded to `length - 1` digits and NUL-terminated. */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
}

/**
 * One ustar header. Everything that could differ between hosts is fixed: mtime 0, uid/gid 0,
 * empty uname/gname, no device numbers, so the same inputs give the same bytes.
 */
export function encodeHeader(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, USTAR_NAME_BYTES, fields.name);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, Math.min(fields.size, USTAR_MAX_SIZE));
  writeOctal(block, 136, 12, 0); // mtime: the epoch, always
  writeString(block, 156, 1, fields.type);
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  // The checksum is computed with its own field as eight spaces, then written as 6 digits, NUL, space.
  block.fill(0x20, 148, 156);
  const sum = headerChecksum(block);
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Sum of the header's bytes as unsigned, with the checksum field counted as spaces. */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** A pax record `LEN key=value\n`, where LEN counts the whole record including its own digits. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return `${length}${body}`;
}

/** True when a path fits ustar's name field as plain ASCII (no pax record needed). */
export function fitsUstarName(path: string): boolean {
  return path.length <= USTAR_NAME_BYTES && /^[\x20-\x7e]*$/.test(path);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
