/**
 * Shared test and bench support (formats' SSTable tests, the savedmodel-bundle bench): writes LevelDB-format tables the way tsl/lib/io/table_builder.cc does (prefix
 * compressed entries, restart points, uncompressed blocks with masked crc32c trailers, footer), so
 * tests can build well-formed and deliberately broken variables.index files in memory.
 */
import { savedmodel } from '@ferry/formats';

const { crc32c, crc32cMask } = savedmodel;
/** LevelDB's table magic (table/format.h kTableMagicNumber), written here independently of the reader. */
const TABLE_MAGIC = 0xdb4775248b80fb57n;

export function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export function buildBlock(entries: readonly [Uint8Array, Uint8Array][], restartInterval = 16): Uint8Array {
  const out: number[] = [];
  const restarts: number[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % restartInterval === 0) restarts.push(out.length);
    else while (shared < previous.length && shared < key.length && previous[shared] === key[shared]) shared++;
    out.push(...varint(shared), ...varint(key.length - shared), ...varint(value.length));
    out.push(...key.subarray(shared), ...value);
    previous = key;
  });
  if (restarts.length === 0) restarts.push(0);
  for (const r of restarts) out.push(...u32(r));
  out.push(...u32(restarts.length));
  return Uint8Array.from(out);
}

export interface BuildOptions {
  readonly blockEntries?: number;
  readonly compressionType?: number;
  readonly corruptCrc?: boolean;
}

/** A whole table: data blocks of `blockEntries` entries, an empty metaindex, the index, the footer. */
export function buildTable(
  entries: readonly [Uint8Array, Uint8Array][],
  options: BuildOptions = {},
): Uint8Array {
  const out: number[] = [];
  const writeBlock = (block: Uint8Array): { offset: number; size: number } => {
    const offset = out.length;
    const type = options.compressionType ?? 0;
    const withType = Uint8Array.from([...block, type]);
    let crc = crc32cMask(crc32c(withType));
    if (options.corruptCrc) crc ^= 1;
    out.push(...withType, ...u32(crc));
    return { offset, size: block.length };
  };
  const per = options.blockEntries ?? 4;
  const index: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < entries.length; i += per) {
    const chunk = entries.slice(i, i + per);
    const handle = writeBlock(buildBlock(chunk));
    index.push([
      chunk[chunk.length - 1]![0],
      Uint8Array.from([...varint(handle.offset), ...varint(handle.size)]),
    ]);
  }
  const meta = writeBlock(buildBlock([]));
  const idx = writeBlock(buildBlock(index, 1));
  const footer = [...varint(meta.offset), ...varint(meta.size), ...varint(idx.offset), ...varint(idx.size)];
  while (footer.length < 40) footer.push(0);
  const magic = TABLE_MAGIC;
  footer.push(...u32(Number(magic & 0xffffffffn)), ...u32(Number(magic >> 32n)));
  return Uint8Array.from([...out, ...footer]);
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
