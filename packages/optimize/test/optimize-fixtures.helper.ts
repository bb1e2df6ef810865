import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fp16 from '../src/fp16/convert.js';
import { afterAll } from 'vitest';
import { encodeSamples, ort, tensorValues } from '../src/index.js';
import type { SampleTensor } from '../src/sample-data.js';

export const FIXTURES = new URL('../../../fixtures/optimize/', import.meta.url).pathname;
export const fixture = (name: string) => join(FIXTURES, name);

interface StoredTensor {
  dtype: 'F32' | 'I64';
  shape: number[];
  data: number[];
}
export interface ExpectedModel {
  opset: number;
  classifier: boolean;
  inputs: Record<string, StoredTensor>;
  outputs: Record<string, StoredTensor>;
}
/** What torch computed when fixtures/make/optimize_models.py exported each model. */
export const EXPECTED: Record<string, ExpectedModel> = JSON.parse(
  readFileSync(fixture('expected.json'), 'utf8'),
);

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-optimize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function storedToOrt(t: StoredTensor): ort.Tensor {
  return t.dtype === 'I64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(t.data, (v) => BigInt(v)),
        t.shape,
      )
    : new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
}

/** The fixture's stored inputs as a safetensors file (for --inputs and --calibrate). */
export function writeInputsFile(dir: string, model: string): string {
  const tensors: SampleTensor[] = Object.entries(EXPECTED[model]!.inputs).map(([name, t]) => {
    const data = t.dtype === 'I64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data);
    return { name, dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(data.buffer) };
  });
  const path = join(dir, `${model}.inputs.safetensors`);
  writeFileSync(path, encodeSamples(tensors));
  return path;
}

/** Runs a model (path or bytes) on the fixture's stored inputs; returns each output's values. */
export async function runOnStored(
  model: string | Uint8Array,
  fixtureName: string,
): Promise<Record<string, Float64Array>> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model)
      : await ort.InferenceSession.create(model);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(EXPECTED[fixtureName]!.inputs)) {
      const meta = session.inputMetadata.find((m) => m.name === name);
      const half = meta?.isTensor && meta.type === 'float16';
      feeds[name] = half ? toHalfTensor(t) : storedToOrt(t);
    }
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, tensorValues(v)]));
  } finally {
    await session.release();
  }
}

function toHalfTensor(t: StoredTensor): ort.Tensor {
  return new ort.Tensor(
    'float16',
    Uint16Array.from(t.data, (v) => fp16.toFloat16Bits(v)),
    t.shape,
  );
}

/** max |a - b| / max |a|, and top-1 agreement over [rows, classes]. */
export function errors(expected: readonly number[], actual: ArrayLike<number>, classes?: number) {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  let agree = 0;
  let rows = 0;
  if (classes) {
    const argmax = (v: ArrayLike<number>, at: number) => {
      let best = 0;
      for (let k = 1; k < classes; k++) if (v[at + k]! > v[at + best]!) best = k;
      return best;
    };
    for (let at = 0; at < expected.length; at += classes, rows++)
      if (argmax(expected, at) === argmax(actual, at)) agree++;
  }
  return { maxAbs, maxRel: maxAbs / scale, top1: rows > 0 ? agree / rows : 1 };
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
