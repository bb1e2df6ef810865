import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { readTensorBytes } from '../tensor/tensor-ref.js';
import { encodeModel } from './codec.js';
import { onnxHandler } from './handler.js';
import type { OnnxGraph, OnnxTensor } from './schema.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-onnx-tensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function open(initializer: OnnxTensor[], extra: Partial<OnnxGraph> = {}) {
  const path = join(dir, `t${n++}.onnx`);
  const graph: OnnxGraph = { name: 'g', initializer, ...extra };
  await writeFile(path, encodeModel({ ir_version: 8n, opset_import: [{ domain: '', version: 13n }], graph }));
  return onnxHandler.open(path, {});
}

async function refused(tensor: OnnxTensor): Promise<FerryError> {
  const error = await open([tensor]).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('ONNX initializers', () => {
  it('reads raw_data as a view of the file bytes (fp16 here) and converts typed fields to little-endian bytes', async () => {
    const raw = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0]); // fp16 1.0, -2.0
    const model = await open([
      { name: 'h', data_type: 10, dims: [2n], raw_data: raw },
      { name: 'u32', data_type: 12, dims: [2n], uint64_data: [1n, 4294967295n] },
      { name: 'b', data_type: 9, dims: [3n], int32_data: [0, 1, 5] },
    ]);
    const bytes = await Promise.all(model.tensors.map((t) => readTensorBytes(t)));
    expect([...bytes[0]!]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect([...bytes[1]!]).toEqual([1, 0, 0, 0, 255, 255, 255, 255]);
    expect([...bytes[2]!]).toEqual([0, 1, 1]);
  });

  it.each([
    ['raw_data holds 8 bytes', { name: 'w', data_type: 1, dims: [3n], raw_data: new Uint8Array(8) }],
    ['float_data holds 2 values', { name: 'w', data_type: 1, dims: [3n], float_data: [1, 2] }],
    ['found in int32_data', { name: 'w', data_type: 1, dims: [2n], int32_data: [1, 2] }],
    ['int64_data holds 0 values', { name: 'w', data_type: 7, dims: [1n] }],
  ])('refuses data that does not fit the dims: %s', async (rule, tensor) => {
    const error = await refused(tensor as OnnxTensor);
    expect(error.code).toBe('FERRY_ONNX_TENSOR_DATA');
    expect(error.message).toContain('tensor w');
    expect(error.message).toContain(rule);
  });

  it('refuses a rank over MAX_ONNX_TENSOR_RANK and dims out of range before allocating', async () => {
    expect((await refused({ name: 'w', data_type: 1, dims: Array(65).fill(1n) })).code).toBe('FERRY_LIMIT');
    expect((await refused({ name: 'w', data_type: 1, dims: [-1n] })).code).toBe('FERRY_TENSOR_SHAPE');
    expect((await refused({ name: 'w', data_type: 1, dims: [1n << 40n, 1n << 40n] })).code).toBe(
      'FERRY_TENSOR_SHAPE',
    );
  });

  it('reports segmented, sparse and unknown-dtype tensors as opaque, with the reason', async () => {
    const model = await open(
      [
        { name: 'seg', data_type: 1, dims: [4n], segment: { begin: 0n, end: 2n }, float_data: [1, 2] },
        { name: 'c128', data_type: 15, dims: [1n], double_data: [1, 2] },
        { name: 'odd', data_type: 99, dims: [1n] },
      ],
      {
        sparse_initializer: [
          {
            values: { name: 'sp', data_type: 1, dims: [1n], float_data: [5] },
            indices: { data_type: 7, dims: [1n], int64_data: [3n] },
            dims: [10n],
          },
        ],
      },
    );
    expect(model.tensors).toEqual([]);
    expect(model.opaque!.map((o) => [o.name, o.type])).toEqual([
      ['seg', 'FLOAT'],
      ['c128', 'COMPLEX128'],
      ['odd', 'data_type 99'],
      ['sp', 'SparseTensorProto'],
    ]);
  });

  it('refuses a ModelProto without a graph', async () => {
    const path = join(dir, 'nograph.onnx');
    await writeFile(path, encodeModel({ ir_version: 8n, producer_name: 'x' }));
    const error = await onnxHandler.open(path, {}).catch((e: unknown) => e);
    expect((error as FerryError).code).toBe('FERRY_ONNX_NOT_MODEL');
  });
});
