import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertSklearnToOnnx } from '../../src/sklearn/convert.js';

const DIR = join(import.meta.dirname, '../../../../fixtures/sklearn');

interface Expected {
  estimator: string;
  kind: 'classifier' | 'regressor' | 'transformer' | 'cluster';
  X: (number | null)[][];
  label?: (number | string)[];
  probabilities?: number[][];
  scores?: number[][] | number[];
  variable?: number[][];
}

/**
 * Probabilities and real values match within 1e-5 relative, measured against the output's
 * scale (the largest |value| of that output): ONNX Runtime computes in float32, sklearn in
 * float64, so a value that cancels to near zero (a centred feature, a probability of 1e-9)
 * keeps float32's absolute error, not its relative one.
 */
export function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...expected.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e)) expect(Number.isNaN(a), `${what}[${i}]`).toBe(true);
    else if (Math.abs(a - e) > 1e-5 * Math.max(Math.abs(e), scale * 0.1))
      expect.fail(`${what}[${i}]: ${a} vs sklearn ${e} (scale ${scale})`);
  }
}

export async function runOnnx(
  bytes: Uint8Array,
  rows: (number | null)[][],
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  const width = rows[0]!.length;
  const data = Float32Array.from(rows.flat().map((v) => (v === null ? Number.NaN : v)));
  return session.run({ input: new ort.Tensor('float32', data, [rows.length, width]) });
}

const MODEL_SUFFIXES = ['.joblib', '.pkl', '.xgb.json', '.ubj'];
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.xgb.json'))
  .flatMap((f) => {
    const base = f.slice(0, -5);
    return MODEL_SUFFIXES.filter((s) => existsSync(join(DIR, base + s))).map((s) => ({
      base,
      model: base + s,
    }));
  });

describe('sklearn fixtures: ferry ONNX in onnxruntime-node equals sklearn', () => {
  it('finds the fixtures', () => {
    expect(cases.length).toBeGreaterThan(50);
  });
  for (const { base, model } of cases) {
    it(model, async () => {
      const expected = JSON.parse(readFileSync(join(DIR, `${base}.json`), 'utf8')) as Expected;
      const { bytes, summary } = await convertSklearnToOnnx(join(DIR, model));
      const out = await runOnnx(bytes, expected.X);
      if (expected.label) {
        expect(summary.outputs).toContain('label');
        const labels = Array.from(out.label!.data as ArrayLike<bigint | string>, (v) =>
          typeof v === 'bigint' ? Number(v) : v,
        );
        expect(labels).toEqual(expected.label);
      }
      if (expected.probabilities)
        expectClose(out.probabilities!.data as Float32Array, expected.probabilities.flat(), 'probabilities');
      if (expected.scores) expectClose(out.scores!.data as Float32Array, expected.scores.flat(), 'scores');
      if (expected.variable)
        expectClose(out.variable!.data as Float32Array, expected.variable.flat(), 'variable');
    });
  }
});
