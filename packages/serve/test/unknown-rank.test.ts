import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protobuf, savedmodel } from '@ferry/formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';
import { decodeRaw, encodeRaw } from './tensor-bytes.helper.js';

/**
 * Tensors of unknown rank (issue #16.5): TF Serving's half_plus_three has an `x` of unknown rank
 * and TF Serving takes any shape there; ferry served it as a scalar. Two models here:
 *
 * - hpt_any: TF Serving's half_plus_two (../shared/fixtures/savedmodel, read-only) with its
 *   serving_default x and y re-declared unknown_rank: true, which is what half_plus_three's
 *   signature says. TensorFlow cannot be installed here to export one, so the test rewrites the
 *   signature's TensorShapeProto with @ferry/formats' protobuf codec (the graph is untouched; the
 *   variables are linked, never copied). It answers 0.5 x + 2 at every shape.
 * - identity_any_rank (fixtures/make/serve_any_rank.py): ONNX Identity per protocol datatype
 *   with shapeless inputs and outputs, plus one true scalar that must stay rank 0.
 */
const SHARED = fileURLToPath(new URL('../../../../shared/fixtures/savedmodel/', import.meta.url));
const ANY_RANK = fileURLToPath(new URL('../../../fixtures/serve-any-rank/', import.meta.url));
const HPT = join(SHARED, 'saved_model_half_plus_two_cpu/00000123');

type Json = Record<string, unknown>;

/** half_plus_two with serving_default's tensors of unknown rank, in TF Serving's layout. */
function writeUnknownRankHalfPlusTwo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const schema = savedmodel.savedModelProtos.SavedModel;
  const model = protobuf.decodeMessage(schema, readFileSync(join(HPT, 'saved_model.pb')), {
    path: 'saved_model.pb',
  }) as { meta_graphs: { signature_def: Record<string, { inputs: Json; outputs: Json }> }[] };
  const signature = model.meta_graphs[0]!.signature_def.serving_default!;
  for (const info of [signature.inputs.x, signature.outputs.y] as { tensor_shape: Json }[])
    info.tensor_shape = { unknown_rank: true };
  writeFileSync(join(dir, 'saved_model.pb'), protobuf.encodeMessage(schema, model as never));
  for (const entry of readdirSync(HPT))
    if (entry !== 'saved_model.pb') symlinkSync(join(HPT, entry), join(dir, entry));
}

/** <model>/1/model.onnx, a link to the committed fixture. */
function linkOnnx(model: string): void {
  mkdirSync(join(model, '1'), { recursive: true });
  symlinkSync(join(ANY_RANK, 'identity_any_rank', '1', 'model.onnx'), join(model, '1', 'model.onnx'));
}

let root: string;
let cacheDir: string;
let t: TestServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ferry-serve-anyrank-'));
  cacheDir = mkdtempSync(join(tmpdir(), 'ferry-serve-anyrank-cache-'));
  writeUnknownRankHalfPlusTwo(join(root, 'hpt_any', '00000123'));
  linkOnnx(join(root, 'identity_any_rank'));
  t = await startTestServer(root, { cacheDir });
}, 60_000);
afterAll(async () => {
  await t?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

interface GrpcReply {
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

const SHAPES = [[2, 1], [3], [], [1, 2, 2], [0]];
const valuesFor = (shape: number[]) =>
  Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 1.5 - 1);

describe('a SavedModel signature of unknown rank (half_plus_three style)', () => {
  it('publishes x and y with shape [-1] over REST and gRPC', async () => {
    const rest = await getJson(`${t.url}/v2/models/hpt_any`);
    expect(rest.json).toMatchObject({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    });
    expect(rest.json.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1] }]);
    const grpc = await t.call<{ inputs: Json[]; outputs: Json[] }>('ModelMetadata', { name: 'hpt_any' });
    expect(grpc.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: ['-1'] }]);
    expect(grpc.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: ['-1'] }]);
  });

  for (const shape of SHAPES)
    it(`answers 0.5 x + 2 at shape [${shape.join(', ')}] over REST and gRPC`, async () => {
      const x = valuesFor(shape);
      const y = x.map((v) => 0.5 * v + 2);
      const { status, json } = await postJson(`${t.url}/v2/models/hpt_any/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape, data: x }],
      });
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape, data: y }]);
      const reply = await t.call<GrpcReply>('ModelInfer', {
        model_name: 'hpt_any',
        inputs: [{ name: 'x', datatype: 'FP32', shape }],
        raw_input_contents: [encodeRaw('FP32', x)],
      });
      expect(reply.outputs).toMatchObject([{ name: 'y', datatype: 'FP32', shape: shape.map(String) }]);
      expect(decodeRaw('FP32', reply.raw_output_contents[0]!)).toEqual(y);
    });
});

describe('ONNX inputs without a shape, every datatype', () => {
  const TYPES = Object.keys(EXPECTED.identity);
  // the fixture values: 4 per datatype; 64-bit integers as decimal strings
  const data = (type: string) => EXPECTED.identity[type]!;
  const request = (shape: number[]) => ({
    inputs: [
      ...TYPES.map((type) => ({ name: `in_${type.toLowerCase()}`, datatype: type, shape, data: data(type) })),
      { name: 'scalar', datatype: 'FP32', shape: [], data: [2.5] },
    ],
  });

  it('publishes shapeless tensors as [-1] and the true scalar as []', async () => {
    const { json } = await getJson(`${t.url}/v2/models/identity_any_rank`);
    const inputs = json.inputs as { name: string; shape: number[] }[];
    expect(inputs).toHaveLength(TYPES.length + 1);
    for (const input of inputs) expect(input.shape).toEqual(input.name === 'scalar' ? [] : [-1]);
  });

  for (const shape of [[4], [2, 2], [1, 2, 2], [2, 1, 2, 1]])
    it(`echoes every datatype at shape [${shape.join(', ')}] over REST JSON and gRPC raw`, async () => {
      const { status, json } = await postJson(`${t.url}/v2/models/identity_any_rank/infer`, request(shape));
      expect(status, JSON.stringify(json)).toBe(200);
      const outputs = json.outputs as { name: string; shape: number[]; data: unknown[] }[];
      for (const type of TYPES) {
        const out = outputs.find((o) => o.name === `out_${type.toLowerCase()}`)!;
        expect(out.shape, type).toEqual(shape);
        // JSON.parse rounds 64-bit integers past 2^53 on both sides; gRPC below compares bytes
        expect(out.data.map(Number), type).toEqual(data(type).map(Number));
      }
      const raw = TYPES.filter((type) => type !== 'BYTES');
      const fp16 = Buffer.from(new Uint16Array([0x3800, 0xc000, 0x7bff, 0x1400]).buffer);
      const rawOf = (type: string) =>
        type === 'FP16' ? fp16 : encodeRaw(type, data(type) as (number | string | boolean)[]);
      const reply = await t.call<GrpcReply>('ModelInfer', {
        model_name: 'identity_any_rank',
        inputs: [
          ...raw.map((type) => ({ name: `in_${type.toLowerCase()}`, datatype: type, shape })),
          { name: 'in_bytes', datatype: 'BYTES', shape },
          { name: 'scalar', datatype: 'FP32', shape: [] },
        ],
        raw_input_contents: [
          ...raw.map(rawOf),
          Buffer.concat(
            (data('BYTES') as string[]).map((s) => {
              const bytes = Buffer.from(s, 'utf8');
              const length = Buffer.alloc(4);
              length.writeUInt32LE(bytes.length);
              return Buffer.concat([length, bytes]);
            }),
          ),
          encodeRaw('FP32', [2.5]),
        ],
      });
      for (const type of raw) {
        const i = reply.outputs.findIndex((o) => o.name === `out_${type.toLowerCase()}`);
        expect(reply.outputs[i]!.shape, type).toEqual(shape.map(String));
        expect(Buffer.from(reply.raw_output_contents[i]!).equals(rawOf(type)), type).toBe(true);
      }
    });

  it('keeps the true scalar at rank 0 (400 for shape [1])', async () => {
    const body = request([4]);
    body.inputs[body.inputs.length - 1] = { name: 'scalar', datatype: 'FP32', shape: [1], data: [2.5] };
    const { status, json } = await postJson(`${t.url}/v2/models/identity_any_rank/infer`, body);
    expect(status).toBe(400);
    expect(json.error).toBe('input scalar: shape [1] has rank 1 but the model expects []');
  });

  it('takes a config shape that fixes an unknown rank', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-serve-anyrank-config-'));
    try {
      linkOnnx(join(dir, 'm'));
      writeFileSync(join(dir, 'm', 'config.yaml'), 'inputs:\n  - { name: in_fp32, shape: [2, 2] }\n');
      const s = await startTestServer(dir);
      try {
        const { json } = await getJson(`${s.url}/v2/models/m`);
        const inputs = json.inputs as { name: string; shape: number[] }[];
        expect(inputs.find((i) => i.name === 'in_fp32')!.shape).toEqual([2, 2]);
        expect(inputs.find((i) => i.name === 'in_fp64')!.shape).toEqual([-1]);
        const flat = await postJson(`${s.url}/v2/models/m/infer`, request([4]));
        expect(flat.status).toBe(400);
        expect(flat.json.error).toBe('input in_fp32: shape [4] has rank 1 but the model expects [2, 2]');
        expect((await postJson(`${s.url}/v2/models/m/infer`, request([2, 2]))).status).toBe(200);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses max_batch_size > 0 for a model with unknown-rank tensors (no batch dimension)', async () => {
    // a startup model that cannot load stops the server from starting, with the reason
    const dir = mkdtempSync(join(tmpdir(), 'ferry-serve-anyrank-batch-'));
    try {
      linkOnnx(join(dir, 'm'));
      writeFileSync(join(dir, 'm', 'config.yaml'), 'max_batch_size: 8\n');
      await expect(startTestServer(dir)).rejects.toThrow(
        /config\.yaml: max_batch_size: is 8 but in_bool has unknown rank, so no first dimension to batch along/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
