import { copyFile, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FerryError,
  BufferSource,
  FileSource,
  readTensorBytes,
  type TensorRef,
  checkModel,
  decodeModel,
  onnxHandler,
} from '../src/formats.js';
import { replaceInitializers } from '../src/replace-weights.js';
import { ConvertError } from '../src/errors.js';

const fixture = (name: string) => new URL(`../../../fixtures/onnx/${name}`, import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-onnx-replace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** New weights for every dense initializer of a model: element i of tensor k is k + i / 1000 (as F32), or bytes k+i. */
async function newWeights(path: string): Promise<TensorRef[]> {
  const model = await onnxHandler.open(path, {});
  return model.tensors.map((t, k) => {
    const bytes = new Uint8Array(t.byteLength);
    if (t.dtype === 'F32') {
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < t.byteLength / 4; i++) view.setFloat32(i * 4, k + i / 1000, true);
    } else for (let i = 0; i < bytes.length; i++) bytes[i] = (k + i) & 0xff;
    return {
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      source: new BufferSource(bytes),
      offset: 0,
      byteLength: t.byteLength,
    };
  });
}

async function expectSameTensors(path: string, weights: TensorRef[]): Promise<void> {
  const model = await onnxHandler.open(path, {});
  expect(model.tensors.map((t) => t.name).sort()).toEqual(weights.map((w) => w.name).sort());
  for (const w of weights) {
    const got = model.tensors.find((t) => t.name === w.name)!;
    expect([got.dtype, got.shape]).toEqual([w.dtype, w.shape]);
    expect(Buffer.from(await readTensorBytes(got)).equals(Buffer.from(await readTensorBytes(w)))).toBe(true);
  }
}

describe('replaceInitializers', () => {
  it('writes the weights inline and keeps the rest of the model as it was', async () => {
    const weights = await newWeights(fixture('cnn.onnx'));
    const out = join(dir, 'cnn-new.onnx');
    const result = await replaceInitializers(fixture('cnn.onnx'), weights, out);
    expect(result).toEqual({ path: out, replaced: weights.length });
    await expectSameTensors(out, weights);
    const before = decodeModel(await readFile(fixture('cnn.onnx')));
    const after = decodeModel(await readFile(out));
    expect(after.graph!.node).toEqual(before.graph!.node);
    expect(after.graph!.input).toEqual(before.graph!.input);
    expect(after.opset_import).toEqual(before.opset_import);
    expect(checkModel(after)).toEqual([]);
  });

  it('writes external data 4 KiB-aligned to OUT.data when asked, and reads back the same', async () => {
    const weights = await newWeights(fixture('cnn.onnx'));
    const out = join(dir, 'cnn-ext.onnx');
    const result = await replaceInitializers(fixture('cnn.onnx'), weights, out, {
      externalData: true,
      externalThreshold: 0,
    });
    expect(result.dataPath).toBe(`${out}.data`);
    const model = decodeModel(await readFile(out));
    for (const t of model.graph!.initializer!) {
      expect(t.data_location).toBe(1);
      expect(t.raw_data).toBeUndefined();
      const keys = Object.fromEntries(t.external_data!.map((e) => [e.key, e.value]));
      expect(keys.location).toBe('cnn-ext.onnx.data');
      expect(Number(keys.offset) % 4096).toBe(0);
    }
    await expectSameTensors(out, weights);
  });

  it('switches to external data by itself when the model would pass the protobuf size limit', async () => {
    const weights = await newWeights(fixture('mlp.onnx'));
    const out = join(dir, 'mlp-big.onnx');
    // 2 GB in production; lowered here so a 700-byte model counts as too big.
    const result = await replaceInitializers(fixture('mlp.onnx'), weights, out, {
      maxModelBytes: 500,
      externalThreshold: 0,
    });
    expect(result.dataPath).toBe(`${out}.data`);
    await expectSameTensors(out, weights);
  });

  it('moves a model with external data back inline, reading the old data file', async () => {
    const src = join(dir, 'ext-src');
    await rm(src, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(src));
    await copyFile(fixture('cnn_external.onnx'), join(src, 'cnn_external.onnx'));
    await copyFile(fixture('cnn_external.onnx.data'), join(src, 'cnn_external.onnx.data'));
    const original = await onnxHandler.open(join(src, 'cnn_external.onnx'), {});
    const half = original.tensors.slice(0, 2);
    const out = join(dir, 'inline.onnx');
    await replaceInitializers(join(src, 'cnn_external.onnx'), half, out, { partial: true });
    expect(
      decodeModel(await readFile(out)).graph!.initializer!.every((t) => t.data_location === undefined),
    ).toBe(true);
    await expectSameTensors(out, original.tensors as TensorRef[]);
  });

  it('replaces typed-field initializers and keeps the STRING one', async () => {
    const weights = await newWeights(fixture('typed.onnx'));
    const out = join(dir, 'typed-new.onnx');
    await replaceInitializers(fixture('typed.onnx'), weights, out);
    await expectSameTensors(out, weights);
    const model = await onnxHandler.open(out, {});
    expect(model.opaque!.map((o) => o.name)).toEqual(['words']);
  });

  it.each([
    ['FERRY_ONNX_REPLACE_UNKNOWN', (w: TensorRef[]) => [...w, { ...w[0]!, name: 'nope' }]],
    ['FERRY_ONNX_REPLACE_MISSING', (w: TensorRef[]) => w.slice(1)],
    ['FERRY_ONNX_REPLACE_DUPLICATE', (w: TensorRef[]) => [...w, w[0]!]],
    ['FERRY_ONNX_REPLACE_DTYPE', (w: TensorRef[]) => [{ ...w[0]!, dtype: 'I32' as const }, ...w.slice(1)]],
    [
      'FERRY_ONNX_REPLACE_SHAPE',
      (w: TensorRef[]) => [{ ...w[0]!, shape: [...w[0]!.shape].reverse().concat([1]) }, ...w.slice(1)],
    ],
  ])(
    '%s: refuses the mismatch with one error naming the tensor, and writes nothing',
    async (code, mutate) => {
      const out = join(dir, `refused-${code}.onnx`);
      const weights = mutate(await newWeights(fixture('mlp.onnx')));
      const error = await replaceInitializers(fixture('mlp.onnx'), weights, out).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvertError);
      expect((error as ConvertError).code).toBe(code);
      expect((error as ConvertError).message).toMatch(/fc1\.weight|nope/);
      expect((await readdir(dir)).filter((f) => f.includes(`refused-${code}`))).toEqual([]);
    },
  );

  it('leaves neither the model nor the data file when a weight cannot be read midway', async () => {
    const weights = await newWeights(fixture('cnn.onnx'));
    // The last tensor comes from a real file that is cut short after it was opened.
    const last = weights[weights.length - 1]!;
    const file = join(dir, 'weights.bin');
    await writeFile(file, await readTensorBytes(last));
    const source = await FileSource.open(file);
    await truncate(file, 4);
    weights[weights.length - 1] = { ...last, source, offset: 0 };
    for (const externalData of [false, true]) {
      const out = join(dir, `broken-${externalData}.onnx`);
      const error = await replaceInitializers(fixture('cnn.onnx'), weights, out, { externalData }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FerryError);
      expect((await readdir(dir)).filter((f) => f.includes('broken-'))).toEqual([]);
    }
    await source.close();
  });
});
