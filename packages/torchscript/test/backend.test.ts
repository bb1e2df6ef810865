import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { torchscriptBackend } from '../src/backend.js';
import { datatypeOf, type Tensor } from '@ferry/serving-api';
import { isTorchScriptError } from '../src/errors.js';
import {
  bytesOf,
  describeWithTorch,
  EXPECTED,
  FIXTURES,
  type FixtureTensor,
} from './torch-fixtures.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-ts-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tensor = (t: FixtureTensor): Tensor => ({
  datatype: datatypeOf(t.dtype)!,
  shape: t.shape,
  bytes: bytesOf(t),
});

/** The addon hands out Node Buffers (Uint8Array subclasses); compare as plain Uint8Array. */
const plain = (t: Tensor | undefined) =>
  t && t.datatype !== 'BYTES' ? { datatype: t.datatype, shape: t.shape, bytes: new Uint8Array(t.bytes) } : t;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (error) {
    if (!isTorchScriptError(error)) throw error;
    expect(error.message).not.toContain('\n');
    return { code: error.code, message: error.message };
  }
  throw new Error('no error');
}

it('refuses a model whose config lists no inputs or outputs, naming the file and field', async () => {
  const config = join(dir, 'config.yaml');
  expect(await failure(torchscriptBackend.load(`${FIXTURES}mlp_traced.pt`, { configPath: config }))).toEqual({
    code: 'FERRY_TORCHSCRIPT_CONFIG',
    message: `${config}: inputs: TorchScript archives carry no input signature: list every forward argument with name, datatype and shape under inputs:`,
  });
});

describeWithTorch('the torchscript backend (the shape of serve Backend)', () => {
  it('serves the traced MLP: metadata from config with a batch dimension, outputs as torch computed', async () => {
    const expected = EXPECTED.models.mlp_traced!;
    const loaded = await torchscriptBackend.load(`${FIXTURES}mlp_traced.pt`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [8] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [4] }],
      intraOpThreads: 1,
    });
    expect(loaded.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 8] }]);
    expect(loaded.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [-1, 4] }]);
    const one = await loaded.createInstance();
    const two = await loaded.createInstance();
    try {
      for (const instance of [one, two]) {
        const out = await instance.run(new Map([['x', tensor(expected.inputs![0]!)]]), ['y']);
        const y = out.get('y')!;
        expect(y.datatype).toBe('FP32');
        expect(y.shape).toEqual([3, 4]);
        const got = new Float32Array(new Uint8Array((y as { bytes: Uint8Array }).bytes).buffer);
        const want = new Float32Array(bytesOf(expected.outputs![0]!).buffer);
        for (const [i, v] of got.entries()) expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await Promise.all([one.close(), two.close(), loaded.close()]);
    }
  });

  it('maps dict outputs by key, tuple outputs by position or output__N, inputs by forward parameter name', async () => {
    const dict = await torchscriptBackend.load(`${FIXTURES}dict_out.pt`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [6] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [] },
        { name: 'scores', datatype: 'FP32', shape: [3] },
      ],
    });
    const d = await dict.createInstance();
    const dictExpected = EXPECTED.models.dict_out!;
    const dictOut = await d.run(new Map([['x', tensor(dictExpected.inputs![0]!)]]), ['scores', 'label']);
    expect(plain(dictOut.get('label'))).toEqual(
      tensor(dictExpected.outputs!.find((o) => o.name === 'label')!),
    );
    expect(dictOut.get('scores')!.shape).toEqual([2, 3]);
    await d.close();

    const tupleExpected = EXPECTED.models.tuple_out!;
    for (const names of [
      ['probs', 'argmax'],
      ['output__0', 'output__1'],
    ]) {
      const tuple = await torchscriptBackend.load(`${FIXTURES}tuple_out.pt`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [5] }],
        outputs: [
          { name: names[0]!, datatype: 'FP32', shape: [5] },
          { name: names[1]!, datatype: 'INT64', shape: [] },
        ],
      });
      const t = await tuple.createInstance();
      const out = await t.run(new Map([['x', tensor(tupleExpected.inputs![0]!)]]), [names[1]!]);
      expect([...out.keys()]).toEqual([names[1]]);
      expect(plain(out.get(names[1]!))).toEqual(tensor(tupleExpected.outputs![1]!));
      await t.close();
    }

    // config order differs from forward(ids, mask): matched by name
    const embedExpected = EXPECTED.models.embed_masked!;
    const embed = await torchscriptBackend.load(`${FIXTURES}embed_masked.pt`, {
      inputs: [
        { name: 'mask', datatype: 'BOOL', shape: [5] },
        { name: 'ids', datatype: 'INT64', shape: [5] },
      ],
      outputs: [{ name: 'mean', datatype: 'FP32', shape: [6] }],
    });
    const e = await embed.createInstance();
    const feeds = new Map(embedExpected.inputs!.map((t) => [t.name, tensor(t)]));
    expect(plain((await e.run(feeds, ['mean'])).get('mean'))).toEqual(tensor(embedExpected.outputs![0]!));
    await e.close();
  });

  it('runs every dtype through protocol datatypes, with max_batch_size 0 shapes given whole', async () => {
    const expected = EXPECTED.models.all_dtypes!;
    const loaded = await torchscriptBackend.load(`${FIXTURES}all_dtypes.pt`, {
      maxBatchSize: 0,
      inputs: expected.inputs!.map((t) => ({
        name: t.name,
        datatype: datatypeOf(t.dtype)!,
        shape: t.shape,
      })),
      outputs: expected.outputs!.map((t) => ({
        name: t.name,
        datatype: datatypeOf(t.dtype)!,
        shape: t.shape,
      })),
    });
    expect(loaded.inputs[0]!.shape).toEqual([2, 3]);
    const instance = await loaded.createInstance();
    const out = await instance.run(
      new Map(expected.inputs!.map((t) => [t.name, tensor(t)])),
      expected.outputs!.map((o) => o.name),
    );
    for (const want of expected.outputs!) {
      const got = out.get(want.name) as { datatype: string; bytes: Uint8Array };
      expect(got.datatype).toBe(datatypeOf(want.dtype));
      if (want.dtype === 'F32') {
        const a = new Float32Array(new Uint8Array(got.bytes).buffer);
        const b = new Float32Array(bytesOf(want).buffer);
        for (const [i, v] of a.entries())
          expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i]!)));
      } else expect(Buffer.from(got.bytes).equals(Buffer.from(bytesOf(want)))).toBe(true);
    }
    await instance.close();
  });

  it('reports outputs that do not match config, and inputs of the wrong datatype', async () => {
    const loaded = await torchscriptBackend.load(`${FIXTURES}tuple_out.pt`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [5] }],
      outputs: [
        { name: 'probs', datatype: 'FP64', shape: [5] },
        { name: 'output__7', datatype: 'INT64', shape: [] },
      ],
    });
    const instance = await loaded.createInstance();
    const x = { datatype: 'FP32' as const, shape: [1, 5], bytes: new Uint8Array(20) };
    const path = `${FIXTURES}tuple_out.pt`;
    expect((await failure(instance.run(new Map([['x', x]]), ['probs']))).message).toBe(
      `${path}: output probs: forward returned FP32, config declares FP64`,
    );
    expect((await failure(instance.run(new Map([['x', x]]), ['output__7']))).message).toBe(
      `${path}: output output__7: forward returned no such output (it returned output__0, output__1)`,
    );
    const wrong = { datatype: 'FP64' as const, shape: [1, 5], bytes: new Uint8Array(40) };
    expect(await failure(instance.run(new Map([['x', wrong]]), ['probs']))).toEqual({
      code: 'FERRY_TORCHSCRIPT_INPUT',
      message: 'input x: is FP64, the model takes FP32',
    });
    await instance.close();
  });

  it('refuses config inputs that cannot fill forward', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, '');
    expect(
      (
        await failure(
          torchscriptBackend.load(`${FIXTURES}mlp_traced.pt`, {
            configPath: config,
            inputs: [
              { name: 'a', datatype: 'FP32', shape: [8] },
              { name: 'b', datatype: 'FP32', shape: [8] },
            ],
            outputs: [{ name: 'y', datatype: 'FP32', shape: [4] }],
          }),
        )
      ).message,
    ).toBe(`${config}: inputs: lists 2 inputs but the model's forward(x) takes 1`);
  });
});
