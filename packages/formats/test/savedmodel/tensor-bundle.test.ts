import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../src/errors.js';
import { encodeMessage } from '../../src/protobuf/encode.js';
import type { Message } from '../../src/protobuf/schema.js';
import { readTensorChunks } from '../../src/tensor/chunks.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { crc32c, crc32cMask } from '../../src/savedmodel/crc32c.js';
import { BundleEntryProto, BundleHeaderProto } from '../../src/savedmodel/protos.js';
import { buildTable, bytes } from '../../../../scripts/test/sstable-builder.js';
import { openTensorBundle, shardFileName } from '../../src/savedmodel/tensor-bundle.js';

const FIXTURES = '/work/shared/fixtures/savedmodel';
const work = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const f32 = (view: Uint8Array): number[] =>
  Array.from({ length: view.length / 4 }, (_, i) =>
    new DataView(view.buffer, view.byteOffset).getFloat32(i * 4, true),
  );

interface Var {
  name: string;
  dtype: number;
  dims: number[];
  data: Uint8Array;
  shard?: number;
  crc?: number;
  size?: number;
  slices?: number;
}

let counter = 0;
/** Writes PREFIX.index and data shards the way BundleWriter lays them out. */
function writeBundle(vars: Var[], header: Message = {}, numShards = 1): string {
  const prefix = join(work, `b${counter++}`, 'variables');
  const folder = join(prefix, '..');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const shards: number[][] = Array.from({ length: numShards }, () => []);
  const entries: [Uint8Array, Uint8Array][] = [
    [
      new Uint8Array(0),
      encodeMessage(BundleHeaderProto, { num_shards: numShards, version: { producer: 1 }, ...header }),
    ],
  ];
  for (const v of [...vars].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const shard = shards[v.shard ?? 0] ?? [];
    const offset = shard.length;
    shard.push(...v.data);
    const entry: Message = {
      dtype: v.dtype,
      shape: { dim: v.dims.map((d) => ({ size: BigInt(d) })) },
      shard_id: v.shard ?? 0,
      offset: BigInt(offset),
      size: BigInt(v.size ?? v.data.length),
      crc32c: v.crc ?? crc32cMask(crc32c(v.data)),
    };
    if (v.slices) entry.slices = Array.from({ length: v.slices }, () => ({ extent: [{ start: 0n }] }));
    entries.push([bytes(v.name), encodeMessage(BundleEntryProto, entry)]);
  }
  writeFileSync(`${prefix}.index`, buildTable(entries));
  for (const [i, s] of shards.entries())
    writeFileSync(shardFileName(prefix, i, numShards), Uint8Array.from(s));
  return prefix;
}

const le32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return error.code;
  }
}

describe('TensorBundle', () => {
  it('reads the TF1 half_plus_two variables: a=0.5, b=2 (and c=3 for x2 -> y3)', async () => {
    const bundle = await openTensorBundle(
      `${FIXTURES}/saved_model_half_plus_two_cpu/00000123/variables/variables`,
    );
    try {
      expect(bundle.header).toEqual({ numShards: 1, endianness: 'little', producer: 1, minConsumer: 0 });
      const values: Record<string, number[]> = {};
      for (const t of bundle.tensors) values[t.name] = f32(await readTensorBytes(t));
      expect(values).toEqual({ a: [0.5], a2: [0.5], b: [2], c: [3], c2: [3] });
      await bundle.verify();
    } finally {
      await bundle.close();
    }
  });

  it('reads a TF2 export: object-graph keys, the string object graph reported as opaque', async () => {
    const bundle = await openTensorBundle(
      `${FIXTURES}/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables`,
    );
    try {
      const values = Object.fromEntries(
        await Promise.all(bundle.tensors.map(async (t) => [t.name, f32(await readTensorBytes(t))])),
      );
      expect(values).toEqual({
        'a/.ATTRIBUTES/VARIABLE_VALUE': [0.5],
        'b/.ATTRIBUTES/VARIABLE_VALUE': [2],
        'c/.ATTRIBUTES/VARIABLE_VALUE': [3],
      });
      expect(bundle.opaque.map((o) => [o.name, o.type])).toEqual([
        ['_CHECKPOINTABLE_OBJECT_GRAPH', 'DT_STRING'],
      ]);
      await bundle.verify(); // the string entry's crc too
    } finally {
      await bundle.close();
    }
  });

  it('reads several shards and checks each tensor crc32c when read', async () => {
    const prefix = writeBundle(
      [
        { name: 'w', dtype: 1, dims: [2, 2], data: le32([1, 2, 3, 4]), shard: 1 },
        { name: 'b', dtype: 1, dims: [2], data: le32([5, 6]) },
        { name: 'bad', dtype: 1, dims: [1], data: le32([7]), crc: 12345 },
      ],
      {},
      2,
    );
    const bundle = await openTensorBundle(prefix);
    try {
      const byName = Object.fromEntries(bundle.tensors.map((t) => [t.name, t]));
      expect(f32(await readTensorBytes(byName.w!))).toEqual([1, 2, 3, 4]);
      expect(f32(await readTensorBytes(byName.b!))).toEqual([5, 6]);
      expect(await codeOf(() => readTensorBytes(byName.bad!))).toBe('FERRY_SAVEDMODEL_CHECKSUM');
      // Streaming in chunks checks too, at the last chunk; a good tensor streams through.
      const stream = async (name: string) => {
        for await (const _ of readTensorChunks(byName[name]!, new Uint8Array(3)));
      };
      await stream('w');
      expect(await codeOf(() => stream('bad'))).toBe('FERRY_SAVEDMODEL_CHECKSUM');
      expect(await codeOf(() => bundle.verify())).toBe('FERRY_SAVEDMODEL_CHECKSUM');
    } finally {
      await bundle.close();
    }
  });

  it('reads big-endian bundles as big-endian data', async () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 1.5, false);
    new DataView(data.buffer).setFloat32(4, -2, false);
    const bundle = await openTensorBundle(
      writeBundle([{ name: 'x', dtype: 1, dims: [2], data }], { endianness: 1 }),
    );
    try {
      expect(bundle.tensors[0]!.byteOrder).toBe('big');
      expect(f32(await readTensorBytes(bundle.tensors[0]!))).toEqual([1.5, -2]);
    } finally {
      await bundle.close();
    }
  });

  it('reports partitioned variables and slice entries without converting them', async () => {
    const prefix = writeBundle([
      { name: 'part', dtype: 1, dims: [4], data: new Uint8Array(0), slices: 2 },
      { name: '\u0000slice', dtype: 1, dims: [2], data: le32([1, 2]) },
    ]);
    const bundle = await openTensorBundle(prefix);
    try {
      expect(bundle.tensors).toEqual([]);
      expect(bundle.sliceEntries).toBe(1);
      expect(bundle.opaque[0]!.reason).toMatch(/partitioned/);
    } finally {
      await bundle.close();
    }
  });

  it('rejects inconsistent entries and headers', async () => {
    const open = (prefix: string) => () => openTensorBundle(prefix).then((b) => b.close());
    const one = (v: Partial<Var>, header: Message = {}, shards = 1) =>
      open(writeBundle([{ name: 'x', dtype: 1, dims: [2], data: le32([1, 2]), ...v }], header, shards));
    expect(await codeOf(one({ size: 12 }))).toBe('FERRY_BUNDLE_ENTRY'); // past the shard's end
    expect(await codeOf(one({ dims: [3], size: 8 }))).toBe('FERRY_BUNDLE_ENTRY'); // size != numel x 4
    expect(await codeOf(one({ dims: [-1] }))).toBe('FERRY_BUNDLE_ENTRY'); // unknown dim
    expect(await codeOf(one({ shard: 3 }, {}, 2))).toBe('FERRY_BUNDLE_ENTRY'); // shard out of range
    expect(await codeOf(one({}, { endianness: 2 }))).toBe('FERRY_SAVEDMODEL_STRUCTURE');
    expect(await codeOf(one({}, { version: { producer: 1, min_consumer: 2 } }))).toBe(
      'FERRY_SAVEDMODEL_STRUCTURE',
    );
    expect(await codeOf(one({}, { version: { producer: 1, bad_consumers: [1] } }))).toBe(
      'FERRY_SAVEDMODEL_STRUCTURE',
    );
    expect(await codeOf(one({}, { num_shards: 5000 }))).toBe('FERRY_LIMIT');
    expect(await codeOf(one({}, { num_shards: 2 }))).toBe('FERRY_NOT_FOUND'); // the -of-00002 file is missing
    // A table with no header entry.
    const prefix = join(work, 'noheader');
    writeFileSync(`${prefix}.index`, buildTable([[bytes('x'), new Uint8Array(0)]]));
    expect(await codeOf(open(prefix))).toBe('FERRY_SAVEDMODEL_STRUCTURE');
  });
});
