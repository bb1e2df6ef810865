import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchscriptAvailable } from '@ferry/torchscript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bfloat16ToNumber, halfToNumber } from '../src/tensor/half.js';
import { postJson, startTestServer, type TestServer } from './test-server.helper.js';

/**
 * Every TorchScript fixture torch wrote (fixtures/make/torchscript_models.py) served with batching
 * on, over REST (one request per row, concurrent, so the batcher joins them) and gRPC (the whole
 * tensor, raw): tuple, list and dict results mapped to named outputs, int64/bool inputs, fp16 and
 * bf16, each answer equal to torch's (expected.json): within 1e-6 for floats, exact otherwise.
 */
const FIXTURES = fileURLToPath(new URL('../../../fixtures/torchscript/', import.meta.url));

interface Stored {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly data: string;
}
const MODELS = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')).models as Record<
  string,
  { file: string; inputs: Stored[]; outputs: Stored[] }
>;

const PROTOCOL: Record<string, string> = {
  BOOL: 'BOOL',
  U8: 'UINT8',
  I8: 'INT8',
  I16: 'INT16',
  I32: 'INT32',
  I64: 'INT64',
  F16: 'FP16',
  BF16: 'BF16',
  F32: 'FP32',
  F64: 'FP64',
};
const SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  I32: 4,
  I64: 8,
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
};

function values(dtype: string, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let o = 0; o < bytes.byteLength; o += SIZE[dtype]!) {
    const v = {
      BOOL: () => view.getUint8(o),
      U8: () => view.getUint8(o),
      I8: () => view.getInt8(o),
      I16: () => view.getInt16(o, true),
      I32: () => view.getInt32(o, true),
      I64: () => Number(view.getBigInt64(o, true)),
      F16: () => halfToNumber(view.getUint16(o, true)),
      BF16: () => bfloat16ToNumber(view.getUint16(o, true)),
      F32: () => view.getFloat32(o, true),
      F64: () => view.getFloat64(o, true),
    }[dtype]!();
    out.push(v);
  }
  return out;
}
const bytesOf = (t: Stored) => new Uint8Array(Buffer.from(t.data, 'base64'));
const valuesOf = (t: Stored) => values(t.dtype, bytesOf(t));

/** Equal to torch: floats within 1e-6 (relative to magnitude), everything else exactly. */
function expectSame(dtype: string, got: readonly number[], want: readonly number[], label: string) {
  expect(got.length, label).toBe(want.length);
  if (dtype === 'F32' || dtype === 'F64')
    for (const [i, v] of got.entries())
      expect(Math.abs(v - want[i]!), `${label}[${i}] ${v} vs ${want[i]}`).toBeLessThanOrEqual(
        1e-6 * (1 + Math.abs(want[i]!)),
      );
  else expect(got, label).toEqual(want);
}

/** config.yaml entry for a tensor; with batching the shape leaves out the first (batch) dimension. */
const entry = (t: { name: string; dtype: string; shape: number[] }, batched: boolean) =>
  `  - { name: ${t.name}, datatype: ${PROTOCOL[t.dtype]}, shape: [${(batched ? t.shape.slice(1) : t.shape).join(', ')}] }`;

/** Served name -> (fixture, output names in the config, batched). Tuple results get names of our choosing. */
const SERVED: Record<string, { fixture: string; outputs?: string[]; batched: boolean }> = {
  tuple_out: { fixture: 'tuple_out', outputs: ['probs', 'best'], batched: true },
  list_out: { fixture: 'list_out', batched: true },
  dict_out: { fixture: 'dict_out', batched: true },
  embed_masked: { fixture: 'embed_masked', batched: true },
  all_dtypes: { fixture: 'all_dtypes', batched: true },
  // a scalar `steps` input has no batch dimension: this one runs requests as given
  control_flow: { fixture: 'control_flow_positive', batched: false },
};

const outputsOf = (name: string) => {
  const { fixture, outputs } = SERVED[name]!;
  return MODELS[fixture]!.outputs.map((o, i) => ({ ...o, name: outputs?.[i] ?? o.name }));
};

const available = torchscriptAvailable();

describe.skipIf(!available && process.env.CI !== 'true')(
  'ferry serve: every TorchScript fixture, batching on',
  () => {
    let root: string;
    let t: TestServer;

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'ferry-serve-tsfx-'));
      for (const [name, { fixture, batched }] of Object.entries(SERVED)) {
        const model = MODELS[fixture]!;
        mkdirSync(join(root, name, '1'), { recursive: true });
        symlinkSync(join(FIXTURES, model.file), join(root, name, '1', 'model.pt'));
        writeFileSync(
          join(root, name, 'config.yaml'),
          [
            'backend: torchscript',
            `max_batch_size: ${batched ? 8 : 0}`,
            'dynamic_batching: { max_queue_delay_us: 100000 }',
            'inputs:',
            ...model.inputs.map((i) => entry(i, batched)),
            'outputs:',
            ...outputsOf(name).map((o) => entry(o, batched)),
            '',
          ].join('\n'),
        );
      }
      t = await startTestServer(root);
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      rmSync(root, { recursive: true, force: true });
    });

    for (const name of Object.keys(SERVED)) {
      const { fixture, batched } = SERVED[name]!;
      const model = MODELS[fixture]!;
      const outputs = outputsOf(name);

      it(`${name}: REST, one request per row batched together, equals torch`, async () => {
        const rows = batched ? model.inputs[0]!.shape[0]! : 1;
        const slice = (t: Stored, row: number) => {
          const all = valuesOf(t);
          if (!batched) return { shape: t.shape, data: all };
          const width = all.length / t.shape[0]!;
          return { shape: [1, ...t.shape.slice(1)], data: all.slice(row * width, (row + 1) * width) };
        };
        const answers = await Promise.all(
          Array.from({ length: rows }, (_, row) =>
            postJson(`${t.url}/v2/models/${name}/infer`, {
              inputs: model.inputs.map((i) => ({
                name: i.name,
                datatype: PROTOCOL[i.dtype],
                ...slice(i, row),
                ...(i.dtype === 'BOOL' && { data: slice(i, row).data.map(Boolean) }),
              })),
            }),
          ),
        );
        answers.forEach(({ status, json }, row) => {
          expect(status, JSON.stringify(json)).toBe(200);
          const got = new Map(
            (json.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[]).map(
              (o) => [o.name, o],
            ),
          );
          for (const want of outputs) {
            const o = got.get(want.name);
            expect(o, want.name).toBeDefined();
            expect(o!.datatype).toBe(PROTOCOL[want.dtype]);
            const expected = slice(want, row);
            expect(o!.shape, want.name).toEqual(expected.shape);
            expectSame(want.dtype, o!.data.map(Number), expected.data, `${name} row ${row} ${want.name}`);
          }
        });
      });

      it(`${name}: gRPC with raw contents equals torch`, async () => {
        const reply = await t.call<{
          outputs: { name: string; datatype: string; shape: string[] }[];
          raw_output_contents: Buffer[];
        }>('ModelInfer', {
          model_name: name,
          inputs: model.inputs.map((i) => ({ name: i.name, datatype: PROTOCOL[i.dtype], shape: i.shape })),
          raw_input_contents: model.inputs.map((i) => Buffer.from(bytesOf(i))),
        });
        for (const want of outputs) {
          const k = reply.outputs.findIndex((o) => o.name === want.name);
          expect(k, want.name).toBeGreaterThanOrEqual(0);
          expect(reply.outputs[k]!.shape.map(Number)).toEqual(want.shape);
          expectSame(
            want.dtype,
            values(want.dtype, new Uint8Array(reply.raw_output_contents[k]!)),
            valuesOf(want),
            `${name} ${want.name}`,
          );
        }
      });
    }

    it('the batcher joined the per-row REST requests (fewer executions than requests)', async () => {
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      const count = (metric: string) =>
        Number(
          new RegExp(`${metric}\\{[^}]*model="embed_masked"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? Number.NaN,
        );
      // 3 REST rows + 1 gRPC request of 3 rows
      expect(count('ferry_inference_count_total')).toBe(6);
      expect(count('ferry_inference_exec_count_total')).toBeLessThan(4);
    });
  },
);
