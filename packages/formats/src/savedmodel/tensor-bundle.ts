import { ferryError } from '../errors.js';
import type { OpaqueTensor } from '../model.js';
import { decodeMessage } from '../protobuf/decode.js';
import type { Message } from '../protobuf/schema.js';
import { FileSource } from '../tensor/byte-source.js';
import { denseByteLength, numel, type TensorRef } from '../tensor/tensor-ref.js';
import { CheckedRange } from './checked-range.js';
import { crc32cUnmask } from './crc32c.js';
import { toShape } from './decode.js';
import { DT_STRING, DT_VARIANT, ferryDtypeOfTf, tfDtypeName } from './dtypes.js';
import { BundleEntryProto, BundleHeaderProto } from './protos.js';
import { readTable } from './sstable.js';

/**
 * TensorFlow's TensorBundle (tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc}): PREFIX.index
 * is a table whose "" entry is a BundleHeaderProto and whose other entries map a variable's name
 * to a BundleEntryProto; the bytes live in PREFIX.data-NNNNN-of-MMMMM at entry.offset, entry.size.
 */

/** Every shard file is opened; more than this would exhaust file descriptors (CWE-770). */
export const MAX_BUNDLE_SHARDS = 1024;
/** tensor_bundle.h kTensorBundleVersion: the newest format this reader understands. */
export const TENSOR_BUNDLE_VERSION = 1;
/** tensor_bundle.h kTensorBundleMinProducer. */
const TENSOR_BUNDLE_MIN_PRODUCER = 0;

export interface BundleHeader {
  readonly numShards: number;
  readonly endianness: 'little' | 'big';
  readonly producer: number;
  readonly minConsumer: number;
}

export interface BundleEntry {
  readonly name: string;
  /** TensorFlow DataType value. */
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  /** The unmasked crc32c of the entry's bytes. */
  readonly crc32c: number;
  /** >0 for a partitioned variable: its bytes are in per-slice entries. */
  readonly slices: number;
}

export interface TensorBundle {
  readonly prefix: string;
  readonly header: BundleHeader;
  readonly entries: readonly BundleEntry[];
  /** Entries that hold one slice of a partitioned variable (keys that start with a 0 byte). */
  readonly sliceEntries: number;
  readonly tensors: readonly TensorRef[];
  readonly opaque: readonly OpaqueTensor[];
  /** Reads every entry (numeric and string; not DT_VARIANT) and checks its crc32c. */
  verify(): Promise<void>;
  /** A DT_STRING variable's strings (checksums checked): `_CHECKPOINTABLE_OBJECT_GRAPH`, vocabularies. */
  readStrings(name: string): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function shardFileName(prefix: string, shard: number, numShards: number): string {
  // tensor_bundle.cc DataFilename: "%s.data-%05d-of-%05d".
  return `${prefix}.data-${String(shard).padStart(5, '0')}-of-${String(numShards).padStart(5, '0')}`;
}

function structure(path: string, what: string, reason: string): never {
  throw ferryError('FERRY_SAVEDMODEL_STRUCTURE', { path, what, reason });
}

function entryError(path: string, tensor: string, reason: string): never {
  throw ferryError('FERRY_BUNDLE_ENTRY', { path, tensor, reason });
}

export function decodeBundleHeader(value: Uint8Array, path: string): BundleHeader {
  const m = decodeMessage(BundleHeaderProto, value, { path });
  const numShards = (m.num_shards as number | undefined) ?? 0;
  const endianness = (m.endianness as number | undefined) ?? 0;
  const version = (m.version as Message | undefined) ?? {};
  const producer = (version.producer as number | undefined) ?? 0;
  const minConsumer = (version.min_consumer as number | undefined) ?? 0;
  const bad = (version.bad_consumers as number[] | undefined) ?? [];
  if (endianness !== 0 && endianness !== 1)
    structure(path, 'BundleHeaderProto.endianness', `${endianness} is neither LITTLE (0) nor BIG (1)`);
  // tensor_bundle.cc CheckVersions.
  if (producer < TENSOR_BUNDLE_MIN_PRODUCER)
    structure(
      path,
      'BundleHeaderProto.version',
      `producer ${producer} is older than ${TENSOR_BUNDLE_MIN_PRODUCER}`,
    );
  if (minConsumer > TENSOR_BUNDLE_VERSION) {
    structure(
      path,
      'BundleHeaderProto.version',
      `the bundle needs a reader of version ${minConsumer}; ferry reads version ${TENSOR_BUNDLE_VERSION}`,
    );
  }
  if (bad.includes(TENSOR_BUNDLE_VERSION))
    structure(
      path,
      'BundleHeaderProto.version',
      `version ${TENSOR_BUNDLE_VERSION} readers are disallowed by bad_consumers`,
    );
  if (numShards < 1) structure(path, 'BundleHeaderProto.num_shards', `${numShards} is not a shard count`);
  if (numShards > MAX_BUNDLE_SHARDS) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'BundleHeaderProto.num_shards',
      value: numShards,
      limit: MAX_BUNDLE_SHARDS,
      reason: 'each shard is an open file (CWE-770)',
    });
  }
  return { numShards, endianness: endianness === 1 ? 'big' : 'little', producer, minConsumer };
}

function int64Field(m: Message, field: string, path: string, name: string): number {
  const value = (m[field] as bigint | undefined) ?? 0n;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    entryError(path, name, `${field} ${value} is out of range`);
  return Number(value);
}

export function decodeBundleEntry(
  name: string,
  value: Uint8Array,
  path: string,
  numShards: number,
): BundleEntry {
  const m = decodeMessage(BundleEntryProto, value, { path });
  const shape = toShape(m.shape as Message | undefined, { path }, `variable ${name} shape`);
  if (shape.unknownRank || shape.dims.some((d) => d < 0))
    entryError(path, name, 'a saved variable has unknown dimensions');
  const shardId = (m.shard_id as number | undefined) ?? 0;
  const slices = ((m.slices as unknown[] | undefined) ?? []).length;
  if (slices === 0 && (shardId < 0 || shardId >= numShards))
    entryError(path, name, `shard_id ${shardId} is outside 0..${numShards - 1}`);
  return {
    name,
    dtype: (m.dtype as number | undefined) ?? 0,
    shape: shape.dims,
    shardId,
    offset: int64Field(m, 'offset', path, name),
    size: int64Field(m, 'size', path, name),
    crc32c: crc32cUnmask((m.crc32c as number | undefined) ?? 0),
    slices,
  };
}

/** Opens PREFIX.index and its data shards. Nothing of the data files is read until asked. */
export async function openTensorBundle(prefix: string): Promise<TensorBundle> {
  const indexPath = `${prefix}.index`;
  const index = await FileSource.open(indexPath);
  let table: Awaited<ReturnType<typeof readTable>>;
  try {
    table = await readTable(index);
  } finally {
    await index.close();
  }
  const first = table[0];
  if (first === undefined)
    structure(indexPath, 'header entry', 'the table is empty: no "" key holding the BundleHeaderProto');
  if (first.key.length !== 0)
    structure(indexPath, 'header entry', 'the first key is not "", the BundleHeaderProto');
  const header = decodeBundleHeader(first.value, indexPath);
  const entries: BundleEntry[] = [];
  let sliceEntries = 0;
  for (const { key, value } of table.slice(1)) {
    // Slice keys are OrderedCode-encoded and begin with WriteNumIncreasing(0), a 0 byte
    // (tensor_slice / checkpoint_utils EncodeTensorNameSlice).
    if (key[0] === 0) {
      sliceEntries++;
      continue;
    }
    entries.push(decodeBundleEntry(utf8.decode(key), value, indexPath, header.numShards));
  }
  const shards: FileSource[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(shards.map((s) => s.close()));
  };
  try {
    const used = new Set(entries.filter((e) => e.slices === 0).map((e) => e.shardId));
    const shardSources = new Map<number, FileSource>();
    for (const id of [...used].sort((a, b) => a - b)) {
      const source = await FileSource.open(shardFileName(prefix, id, header.numShards));
      shards.push(source);
      shardSources.set(id, source);
    }
    const tensors: TensorRef[] = [];
    const opaque: OpaqueTensor[] = [];
    const ranges: CheckedRange[] = [];
    const stringRanges = new Map<string, CheckedRange>();
    for (const entry of entries) {
      if (entry.slices > 0) {
        opaque.push({
          name: entry.name,
          type: tfDtypeName(entry.dtype),
          shape: entry.shape,
          byteLength: 0,
          reason: `partitioned variable stored as ${entry.slices} slices; ferry does not reassemble slices`,
        });
        continue;
      }
      const shard = shardSources.get(entry.shardId)!;
      if (entry.offset + entry.size > shard.size) {
        entryError(
          indexPath,
          entry.name,
          `bytes [${entry.offset}, ${entry.offset + entry.size}) run past the end of ${shard.name} (${shard.size} bytes)`,
        );
      }
      const range = new CheckedRange(
        shard,
        entry.offset,
        entry.size,
        entry.crc32c,
        `variable ${entry.name}`,
        entry.dtype === DT_STRING ? numel(entry.shape) : null,
      );
      // DT_VARIANT entries carry per-element checksums in their own layout: not checked here.
      if (entry.dtype !== DT_VARIANT) ranges.push(range);
      if (entry.dtype === DT_STRING) stringRanges.set(entry.name, range);
      const dtype = ferryDtypeOfTf(entry.dtype);
      if (!dtype) {
        opaque.push({
          name: entry.name,
          type: tfDtypeName(entry.dtype),
          shape: entry.shape,
          byteLength: entry.size,
          reason:
            entry.dtype === DT_STRING
              ? 'DT_STRING values (varint lengths, a checksum, then bytes) are not a dense tensor'
              : 'ferry has no dense dtype for it',
        });
        continue;
      }
      const expected = denseByteLength(dtype, entry.shape, indexPath, entry.name);
      if (expected !== entry.size) {
        entryError(
          indexPath,
          entry.name,
          `size ${entry.size} is not ${expected} (${JSON.stringify(entry.shape)} x ${dtype})`,
        );
      }
      tensors.push({
        name: entry.name,
        dtype,
        shape: entry.shape,
        source: range,
        offset: 0,
        byteLength: entry.size,
        ...(header.endianness === 'big' && { byteOrder: 'big' as const }),
      });
    }
    return {
      prefix,
      header,
      entries,
      sliceEntries,
      tensors,
      opaque,
      verify: async () => {
        for (const range of ranges) await range.verify();
      },
      readStrings: async (name) => {
        const range = stringRanges.get(name);
        if (!range)
          throw ferryError('FERRY_TENSOR_MISSING', { path: indexPath, tensor: `${name} (DT_STRING)` });
        return range.readStrings();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
