import { type FileHandle, open } from 'node:fs/promises';
import { bundleError } from '../errors.js';
import { readExactly } from '../io.js';
import { MAX_FILES, MAX_PAX_BYTES } from '../limits.js';
import { pathProblem } from '../manifest/paths.js';
import { BLOCK, headerChecksum, padding } from './header.js';

/** One regular file in a bundle: where its bytes are, nothing read yet. */
export interface TarEntry {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  /** Byte offset of the entry's data in the archive. */
  readonly dataOffset: number;
  /** Byte offset of the entry's (first) header. */
  readonly headerOffset: number;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  L: 'a GNU long name',
  K: 'a GNU long link name',
  g: 'a pax global header',
  S: 'a GNU sparse file',
};

function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end >= 0 ? bytes.subarray(0, end) : bytes).toString('utf8');
}

/**
 * Lists a bundle's entries by reading only the headers (data is skipped with the sizes), and
 * refuses anything a bundle must not hold before a byte is extracted: bad checksums or octal
 * fields, entries running past the end, links, devices and other special files, absolute or
 * `..` paths (CWE-22), duplicates, pax headers over MAX_PAX_BYTES, more than MAX_FILES entries.
 * Folder entries are allowed (and skipped): a folder is created only as a file's parent.
 */
export async function readTarIndex(path: string): Promise<TarEntry[]> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw bundleError('FERRY_BUNDLE_IO', { path, reason: `cannot open: ${error.message}` }, error);
  });
  try {
    return await readIndex(file, path, (await file.stat()).size);
  } finally {
    await file.close();
  }
}

/** Tails longer than this are refused without reading them: no real tar pads that much. */
const MAX_ZERO_TAIL = 1 << 20;

async function checkZeroTail(
  file: FileHandle,
  from: number,
  fileSize: number,
  fail: (at: number) => Error,
): Promise<void> {
  const length = fileSize - from;
  if (length <= 0) return;
  if (length > MAX_ZERO_TAIL) throw fail(from);
  const tail = new Uint8Array(length);
  const { bytesRead } = await file.read(tail, 0, length, from);
  const nonZero = tail.subarray(0, bytesRead).findIndex((b) => b !== 0);
  if (nonZero >= 0 || bytesRead < length) throw fail(from + Math.max(nonZero, 0));
}

async function readIndex(file: FileHandle, path: string, fileSize: number): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  const folders = new Set<string>();
  const block = new Uint8Array(BLOCK);
  let offset = 0;
  let pax: Map<string, string> | undefined;
  let paxOffset = 0;
  const fail = (what: string, at: number, rule: string) =>
    bundleError('FERRY_BUNDLE_TAR', { path, what, offset: at, rule });
  for (;;) {
    if (offset + BLOCK > fileSize)
      throw fail('header', offset, 'the archive ends without its two zero blocks');
    await readExactly(file, block, offset, BLOCK, path);
    if (block.every((b) => b === 0)) {
      if (pax) throw fail('pax header', paxOffset, 'is not followed by an entry');
      // Only zero padding may follow the end marker (tar pads to its record size): bytes appended
      // after it are outside every digest and signature, so a bundle carrying them is refused.
      await checkZeroTail(file, offset + BLOCK, fileSize, (at) =>
        fail('end of archive', at, 'only zero bytes may follow the end-of-archive block'),
      );
      checkTreeConflicts(path, entries, folders);
      return entries;
    }
    const headerOffset = pax ? paxOffset : offset;
    const magic = field(block, 257, 6);
    if (magic !== 'ustar' || field(block, 263, 2) !== '00')
      throw fail('header', offset, `magic is ${JSON.stringify(magic)}, not POSIX "ustar\\0" "00"`);
    const stored = octal(block, 148, 8, 'checksum', offset, path);
    if (stored !== headerChecksum(block))
      throw fail(
        'header',
        offset,
        `checksum ${stored} does not match the header bytes (${headerChecksum(block)})`,
      );
    const type = String.fromCharCode(block[156]!) === '\0' ? '0' : String.fromCharCode(block[156]!);
    let size = octal(block, 124, 12, 'size', offset, path);
    const mode = octal(block, 100, 8, 'mode', offset, path);
    let name = field(block, 0, 100);
    const prefix = field(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
    const dataOffset = offset + BLOCK;
    if (type === 'x') {
      if (pax) throw fail('pax header', offset, 'follows another pax header');
      if (size > MAX_PAX_BYTES)
        throw fail('pax header', offset, `is ${size} bytes, over MAX_PAX_BYTES (${MAX_PAX_BYTES}, CWE-770)`);
      if (dataOffset + size > fileSize)
        throw fail(
          'pax header',
          offset,
          `its ${size} bytes run past the end of the file (${fileSize} bytes)`,
        );
      const body = new Uint8Array(size);
      await readExactly(file, body, dataOffset, size, path);
      pax = parsePax(body, (rule) => fail('pax header', offset, rule));
      paxOffset = offset;
      offset = dataOffset + size + padding(size);
      continue;
    }
    if (pax) {
      const paxPath = pax.get('path');
      if (paxPath !== undefined) name = paxPath;
      const paxSize = pax.get('size');
      if (paxSize !== undefined) {
        if (!/^[0-9]{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize)))
          throw fail('pax header', paxOffset, `size ${JSON.stringify(paxSize)} is not a decimal byte count`);
        size = Number(paxSize);
      }
      if (pax.has('linkpath') && type !== '1' && type !== '2')
        throw fail('pax header', paxOffset, 'has a linkpath for an entry that is not a link');
      pax = undefined;
    }
    const unsafe = (rule: string) =>
      bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', { path, entry: JSON.stringify(name), rule });
    if (type === '1' || type === '2') {
      const target = field(block, 157, 100);
      throw unsafe(
        `is ${TYPE_NAMES[type]} to ${JSON.stringify(target)}; bundles hold only regular files (a link can lead outside the folder, CWE-59)`,
      );
    }
    if (type !== '0' && type !== '5')
      throw unsafe(
        `is ${TYPE_NAMES[type] ?? `of type ${JSON.stringify(type)}`}; bundles hold only regular files`,
      );
    const isFolder = type === '5';
    const clean = isFolder && name.endsWith('/') ? name.slice(0, -1) : name;
    const why = pathProblem(clean);
    if (why) throw unsafe(`its path ${why} (CWE-22)`);
    if (dataOffset + size > fileSize)
      throw fail(
        'entry',
        headerOffset,
        `${JSON.stringify(clean)}: its ${size} bytes run past the end of the file (${fileSize} bytes)`,
      );
    if (isFolder) {
      if (size !== 0)
        throw fail('entry', headerOffset, `folder ${JSON.stringify(clean)} has ${size} bytes of data`);
      folders.add(clean);
    } else {
      if (seen.has(clean))
        throw unsafe(
          'appears twice in the archive (a second copy could replace the first after it was checked)',
        );
      seen.add(clean);
      if (entries.length >= MAX_FILES)
        throw bundleError('FERRY_BUNDLE_LIMIT', {
          path,
          what: 'the number of files',
          value: entries.length + 1,
          limit: MAX_FILES,
          reason: 'MAX_FILES, CWE-770',
        });
      // Setuid, setgid and sticky bits are kept so openBundle can refuse them (the manifest allows
      // only 0644 and 0755); the file type bits above 0o7777 are not part of the mode field's meaning.
      entries.push({ path: clean, size, mode: mode & 0o7777, dataOffset, headerOffset });
    }
    offset = dataOffset + size + padding(size);
  }
}

/** A file that is also a folder of another entry ("a" and "a/b") cannot both be extracted. */
function checkTreeConflicts(path: string, entries: readonly TarEntry[], folders: ReadonlySet<string>): void {
  const files = new Set(entries.map((e) => e.path));
  for (const folder of folders)
    if (files.has(folder))
      throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
        path,
        entry: JSON.stringify(folder),
        rule: 'is both a folder and a file in the archive',
      });
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (files.has(parent))
        throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
          path,
          entry: JSON.stringify(entry.path),
          rule: `its folder ${JSON.stringify(parent)} is also a file in the archive`,
        });
    }
  }
}

function octal(
  block: Uint8Array,
  offset: number,
  length: number,
  what: string,
  at: number,
  path: string,
): number {
  const text = field(block, offset, length).trim();
  if (!/^[0-7]{1,12}$/.test(text))
    throw bundleError('FERRY_BUNDLE_TAR', {
      path,
      what: 'header',
      offset: at,
      rule: `${what} field ${JSON.stringify(text)} is not an octal number`,
    });
  return Number.parseInt(text, 8);
}

/** pax records `LEN key=value\n` (POSIX pax "Extended Header"); LEN counts the whole record. */
function parsePax(body: Uint8Array, fail: (rule: string) => Error): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break;
    const space = body.indexOf(0x20, at);
    if (space < 0 || space - at > 8) throw fail(`record at byte ${at} has no length`);
    const lengthText = Buffer.from(body.subarray(at, space)).toString('latin1');
    if (!/^[1-9][0-9]*$/.test(lengthText))
      throw fail(`record length ${JSON.stringify(lengthText)} is not a number`);
    const length = Number(lengthText);
    if (at + length > body.length || length <= space - at + 1 || body[at + length - 1] !== 0x0a)
      throw fail(`record at byte ${at} of length ${length} does not end in a newline inside the header`);
    const record = Buffer.from(body.subarray(space + 1, at + length - 1)).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) throw fail(`record at byte ${at} has no key=value`);
    const key = record.slice(0, eq);
    if (records.has(key)) throw fail(`key ${JSON.stringify(key)} appears twice`);
    records.set(key, record.slice(eq + 1));
    at += length;
  }
  return records;
}
