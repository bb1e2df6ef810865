import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { concatRows, recycleBatchBuffer, type Tensor, takeBatchBuffer } from '@ferry/serving-api';
import { onnxruntimeBackend } from '../../src/backends/onnxruntime.js';

const bytesOf = (tensor: Tensor) => (tensor as { bytes: Uint8Array }).bytes;

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../../fixtures/serve/${name}/1/model.onnx`, import.meta.url));
const row = (values: number[]) => ({
  datatype: 'FP32' as const,
  shape: [1, 8],
  bytes: new Uint8Array(new Float32Array(values).buffer),
});

describe('onnxruntime backend', () => {
  it('reports metadata, runs, and replaces a worker thread that died', async () => {
    const loaded = await onnxruntimeBackend.load(fixture('mlp'), { intraOpThreads: 1 });
    expect(loaded.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 8] }]);
    expect(loaded.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [-1, 4] }]);
    const instance = await loaded.createInstance();
    try {
      const first = await instance.run(new Map([['x', row([1, 2, 3, 4, 5, 6, 7, 8])]]), ['y']);
      // kill the thread under the instance, as an out-of-memory exit would
      const thread = (instance as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread;
      await thread.worker.terminate();
      const again = await instance.run(new Map([['x', row([1, 2, 3, 4, 5, 6, 7, 8])]]), ['y']);
      expect(again.get('y')).toEqual(first.get('y'));
    } finally {
      await instance.close();
      await loaded.close();
    }
  });

  it("joins batches into the input buffers the worker thread gives back, each batch's own rows", async () => {
    const loaded = await onnxruntimeBackend.load(fixture('mlp'), { intraOpThreads: 1 });
    const instance = await loaded.createInstance();
    const rows = [0, 1, 2, 3].map((r) => row([1, 2, 3, 4, 5, 6, 7, 8].map((v) => v * (r + 1))));
    const alone = async (x: Tensor) => (await instance.run(new Map([['x', x]]), ['y'])).get('y')!;
    try {
      const expected = [];
      for (const x of rows)
        expected.push(Array.from(new Float32Array(bytesOf(await alone(x)).slice().buffer)));
      const first = concatRows('FP32', rows);
      const sent = bytesOf(first).slice();
      const one = await instance.run(new Map([['x', first]]), ['y']);
      // moved to the worker, and back into the pool: the next batch of that size is joined into it
      expect(bytesOf(first).byteLength).toBe(0);
      const reused = takeBatchBuffer(sent.byteLength);
      expect(Buffer.compare(reused, sent)).toBe(0);
      recycleBatchBuffer(reused.buffer as ArrayBuffer);
      const swapped = concatRows('FP32', [rows[3]!, rows[2]!, rows[1]!, rows[0]!]);
      const two = await instance.run(new Map([['x', swapped]]), ['y']);
      const values = (t: Tensor) => Array.from(new Float32Array(bytesOf(t).slice().buffer));
      expect(values(one.get('y')!)).toEqual(expected.flat());
      expect(values(two.get('y')!)).toEqual([...expected].reverse().flat());
    } finally {
      await instance.close();
      await loaded.close();
    }
  });

  it('runs with ONNX Runtime spinning allowed or not (instances.allow_spinning)', async () => {
    const outputs = [];
    for (const allowSpinning of [false, true]) {
      const loaded = await onnxruntimeBackend.load(fixture('mlp'), { intraOpThreads: 2, allowSpinning });
      const instance = await loaded.createInstance();
      try {
        outputs.push((await instance.run(new Map([['x', row([1, 2, 3, 4, 5, 6, 7, 8])]]), ['y'])).get('y'));
      } finally {
        await instance.close();
        await loaded.close();
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]?.shape).toEqual([1, 4]);
  });

  it('refuses a file that is not an ONNX model with FERRY_SERVE_LOAD', async () => {
    const error = await onnxruntimeBackend
      .load(fileURLToPath(new URL('../../../../fixtures/serve/expected.json', import.meta.url)), {})
      .catch((e: Error & { code: string }) => e);
    expect((error as { code: string }).code).toBe('FERRY_SERVE_LOAD');
    expect((error as Error).message).toMatch(/expected.json: cannot load model: /);
  });
});
