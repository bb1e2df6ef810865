import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { readTensorBytes } from '../tensor/tensor-ref.js';
import { encodeModel } from './codec.js';
import { onnxHandler } from './handler.js';
import type { OnnxModel, OnnxStringEntry } from './schema.js';

let root: string;
let modelDir: string;
/** 64 bytes outside the model folder: what a hostile model would try to read. */
let secret: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-onnx-ext-'));
  modelDir = join(root, 'model');
  await mkdir(join(modelDir, 'sub'), { recursive: true });
  secret = join(root, 'secret.bin');
  await writeFile(secret, Buffer.alloc(64, 7));
  // 16 floats 0..15 beside the model, after an 8-byte prefix.
  const data = Buffer.alloc(8 + 64);
  for (let i = 0; i < 16; i++) data.writeFloatLE(i, 8 + i * 4);
  await writeFile(join(modelDir, 'weights.bin'), data);
  await writeFile(join(modelDir, 'sub', 'inner.bin'), data);
  await symlink(secret, join(modelDir, 'link-out.bin'));
  await symlink(root, join(modelDir, 'dir-out'));
  await symlink(join(modelDir, 'weights.bin'), join(modelDir, 'link-in.bin'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A one-initializer model whose tensor `w` (F32 [4, 4]) has the given external_data entries. */
async function modelWith(
  external: Record<string, string> | OnnxStringEntry[],
  name = 'm.onnx',
): Promise<string> {
  const entries = Array.isArray(external)
    ? external
    : Object.entries(external).map(([key, value]) => ({ key, value }));
  const model: OnnxModel = {
    ir_version: 8n,
    opset_import: [{ domain: '', version: 13n }],
    graph: {
      name: 'g',
      node: [{ op_type: 'Identity', input: ['w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: 1, dims: [4n, 4n], data_location: 1, external_data: entries }],
      output: [{ name: 'y' }],
    },
  };
  const path = join(modelDir, name);
  await writeFile(path, encodeModel(model));
  return path;
}

async function refusal(external: Record<string, string> | OnnxStringEntry[]): Promise<FerryError> {
  const path = await modelWith(external);
  try {
    await onnxHandler.open(path, {});
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    return error as FerryError;
  }
  throw new Error('model opened but should have been refused');
}

describe('ONNX external data', () => {
  it('reads a tensor at an offset of a file beside the model, only its range', async () => {
    const model = await onnxHandler.open(
      await modelWith({ location: 'weights.bin', offset: '8', length: '64' }),
      {},
    );
    const ref = model.tensors[0]!;
    expect(ref.offset).toBe(8);
    const values = new Float32Array(new Uint8Array(await readTensorBytes(ref)).buffer);
    expect([...values]).toEqual([...Array(16).keys()]);
  });

  it('accepts a sub-folder and a symlink that stays inside the model folder', async () => {
    for (const location of ['sub/inner.bin', 'link-in.bin', './weights.bin']) {
      const model = await onnxHandler.open(await modelWith({ location, offset: '8' }), {});
      expect(model.tensors[0]!.byteLength).toBe(64);
    }
  });

  it.each([
    ['an absolute path', '/etc/passwd', 'absolute path'],
    ['a Windows drive path', 'C:\\secret.bin', 'absolute path'],
    ['a leading ..', '../secret.bin', '".."'],
    ['.. in the middle', 'sub/../../secret.bin', '".."'],
    ['.. with backslashes', 'sub\\..\\..\\secret.bin', '".."'],
    ['a symlink to a file outside', 'link-out.bin', 'symlink'],
    ['a symlinked folder that leads outside', 'dir-out/secret.bin', 'symlink'],
    ['a missing file', 'nope.bin', 'no such file'],
    ['a folder', 'sub', 'not a regular file'],
    ['an empty location', '', 'empty location'],
  ])('refuses %s', async (_what, location, rule) => {
    const error = await refusal({ location });
    expect(error.code).toBe('FERRY_ONNX_EXTERNAL_PATH');
    expect(error.message).toContain(rule);
    expect(error.message).toContain('tensor w');
    expect(error.message).toContain('m.onnx');
  });

  it('checks offset and length against the data file size before reading', async () => {
    let error = await refusal({ location: 'weights.bin', offset: '100' });
    expect(error.code).toBe('FERRY_ONNX_EXTERNAL_RANGE');
    expect(error.message).toContain('past the end of the file (72 bytes)');
    error = await refusal({ location: 'weights.bin', offset: '8', length: '1000000000000' });
    expect(error.code).toBe('FERRY_ONNX_EXTERNAL_RANGE');
    error = await refusal({ location: 'weights.bin', offset: '0', length: '60' });
    expect(error.code).toBe('FERRY_ONNX_TENSOR_DATA');
    expect(error.message).toContain('holds 60 bytes');
  });

  it.each([
    [{ location: 'weights.bin', offset: '-8' }, 'offset'],
    [{ location: 'weights.bin', offset: '0x10' }, 'offset'],
    [{ location: 'weights.bin', length: '99999999999999999999' }, 'length'],
    [{ location: 'weights.bin', where: 'x' }, 'where'],
    [{ offset: '8' }, 'location'],
    [
      [
        { key: 'location', value: 'weights.bin' },
        { key: 'location', value: '../secret.bin' },
      ],
      'location',
    ],
  ])('refuses malformed keys %j', async (external, key) => {
    const error = await refusal(external);
    expect(error.code).toBe('FERRY_ONNX_EXTERNAL_KEYS');
    expect(error.params.key).toBe(key);
  });
});
