import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchscriptAvailable } from '@ferry/torchscript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTo, getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';

// TorchScript models served through the same REST/gRPC routes and batcher as ONNX ones.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/torchscript/', import.meta.url));
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')).models.mlp_traced as {
  inputs: { data: string; shape: number[] }[];
  outputs: { data: string; shape: number[] }[];
};
const floats = (base64: string) => [
  ...new Float32Array(new Uint8Array(Buffer.from(base64, 'base64')).buffer),
];
const x = floats(expected.inputs[0]!.data);
const y = floats(expected.outputs[0]!.data);
const rows = expected.inputs[0]!.shape[0]!;
const inWidth = expected.inputs[0]!.shape[1]!;
const outWidth = expected.outputs[0]!.shape[1]!;

const available = torchscriptAvailable();
if (!available && process.env.CI !== 'true') {
  console.log(
    'skipping TorchScript serving tests: install libtorch-dev (sudo scripts/install-system-deps.sh) and run npm run build:torchscript',
  );
}

describe.skipIf(!available && process.env.CI !== 'true')('ferry serve with the TorchScript backend', () => {
  let root: string;
  let test: TestServer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ferry-serve-ts-'));
    mkdirSync(join(root, 'mlp', '1'), { recursive: true });
    cpSync(join(FIXTURES, 'mlp_traced.pt'), join(root, 'mlp', '1', 'model.pt'));
    writeFileSync(
      join(root, 'mlp', 'config.yaml'),
      [
        'backend: torchscript',
        'max_batch_size: 8',
        'dynamic_batching: { max_queue_delay_us: 200000 }',
        'inputs:',
        `  - { name: x, datatype: FP32, shape: [${inWidth}] }`,
        'outputs:',
        `  - { name: output__0, datatype: FP32, shape: [${outWidth}] }`,
        '',
      ].join('\n'),
    );
    test = await startTestServer(root);
  });
  afterAll(async () => {
    await test?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports the libtorch platform and the configured signature', async () => {
    const { status, json } = await getJson(`${test.url}/v2/models/mlp`);
    expect(status).toBe(200);
    expect(json.platform).toBe('pytorch_libtorch');
    expect(json.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, inWidth] }]);
  });

  it("batches concurrent rows and answers each with torch's output", async () => {
    const answers = await Promise.all(
      Array.from({ length: rows }, (_, row) =>
        postJson(`${test.url}/v2/models/mlp/infer`, {
          inputs: [
            {
              name: 'x',
              datatype: 'FP32',
              shape: [1, inWidth],
              data: x.slice(row * inWidth, (row + 1) * inWidth),
            },
          ],
        }),
      ),
    );
    answers.forEach(({ status, json }, row) => {
      expect(status).toBe(200);
      const out = (json.outputs as { name: string; data: number[] }[])[0]!;
      expect(out.name).toBe('output__0');
      expect(closeTo(out.data, y.slice(row * outWidth, (row + 1) * outWidth), 1e-6)).toBe(true);
    });
    const metrics = await (await fetch(`${test.url}/metrics`)).text();
    const executions = Number(
      /ferry_inference_exec_count_total\{[^}]*model="mlp"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? Number.NaN,
    );
    expect(executions).toBeLessThan(rows);
  });

  it('answers the same over gRPC', async () => {
    const reply = await test.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'mlp',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, inWidth], contents: { fp32_contents: x } }],
    });
    const raw = reply.raw_output_contents[0]!;
    const out = [...new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))];
    expect(closeTo(out, y, 1e-6)).toBe(true);
  });

  it('refuses a wrong shape with 400 before it reaches libtorch', async () => {
    const { status, json } = await postJson(`${test.url}/v2/models/mlp/infer`, {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, inWidth + 1], data: new Array(inWidth + 1).fill(0) },
      ],
    });
    expect(status).toBe(400);
    expect(String(json.error)).toMatch(/x/);
  });

  it('refuses instances.placement: event_loop, which this backend cannot do, naming config.yaml', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ferry-serve-ts-'));
    try {
      mkdirSync(join(other, 'mlp', '1'), { recursive: true });
      cpSync(join(FIXTURES, 'mlp_traced.pt'), join(other, 'mlp', '1', 'model.pt'));
      writeFileSync(
        join(other, 'mlp', 'config.yaml'),
        readFileSync(join(root, 'mlp', 'config.yaml'), 'utf8') + 'instances: { placement: event_loop }\n',
      );
      const error = await startTestServer(other).catch((e: Error) => e);
      expect((error as Error).message).toBe(
        `${join(other, 'mlp', 'config.yaml')}: instances.placement: is event_loop, but the torchscript backend runs only in worker threads`,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
