import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { convertSklearnToOnnx } from '../../src/sklearn/convert.js';

// LightGBM text models and pickles (fixtures/make/lightgbm_models.py): ferry's ONNX, run by
// onnxruntime-node, against an independent walker of LightGBM's tree semantics that matched
// LightGBM's own predictions on real models, and against LightGBM's answers where published.
const DIR = join(import.meta.dirname, '../../../../fixtures/lightgbm');
const WILD = join(import.meta.dirname, '../../../../fixtures/wild');

interface Expected {
  estimator: string;
  kind: 'classifier' | 'regressor';
  X: (number | null)[][];
  label?: (number | string)[];
  probabilities?: number[][];
  variable?: number[][];
  /** LightGBM's own predictions for the rows (a real model), when published. */
  lightgbm?: number[][];
}

async function run(bytes: Uint8Array, rows: (number | null)[][]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  const data = Float32Array.from(rows.flat().map((v) => (v === null ? Number.NaN : v)));
  return session.run({ input: new ort.Tensor('float32', data, [rows.length, rows[0]!.length]) });
}

/** Within 1e-5 of the output's scale: ONNX Runtime sums leaves in float32, LightGBM in double. */
function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++)
    if (Math.abs(actual[i]! - expected[i]!) > 1e-5 * scale)
      expect.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
}

async function check(model: string, expected: Expected) {
  const { bytes, summary } = await convertSklearnToOnnx(model);
  expect(summary.kind).toBe(expected.kind);
  const out = await run(bytes, expected.X);
  if (expected.label) {
    const labels = Array.from(out.label!.data as ArrayLike<bigint | string>, (v) =>
      typeof v === 'bigint' ? Number(v) : v,
    );
    expect(labels).toEqual(expected.label);
  }
  const values = (expected.probabilities ? out.probabilities : out.variable)!.data as Float32Array;
  expectClose(values, (expected.probabilities ?? expected.variable)!.flat(), 'output');
  if (expected.lightgbm) {
    // LightGBM's own answers; for a binary model, the positive class's probability.
    const mine = expected.probabilities
      ? Array.from({ length: expected.X.length }, (_, i) => values[i * 2 + 1]!)
      : Array.from(values);
    expectClose(mine, expected.lightgbm.flat(), 'LightGBM');
  }
  return summary;
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => {
    const base = f.slice(0, -5);
    return ['.txt', '.pkl', '.joblib']
      .filter((s) => existsSync(join(DIR, base + s)))
      .map((s) => ({ base, model: base + s }));
  });

describe('LightGBM: ferry ONNX in onnxruntime-node equals LightGBM', () => {
  it('finds the fixtures', () => {
    expect(cases.length).toBeGreaterThan(20);
  });
  for (const { base, model } of cases) {
    it(model, async () => {
      const expected = JSON.parse(readFileSync(join(DIR, `${base}.json`), 'utf8')) as Expected;
      await check(join(DIR, model), expected);
    });
  }

  // onnxmltools' tests/lightgbm/example.pkl: LightGBM 2.2's LGBMClassifier in an sklearn 0.20
  // Pipeline. Its Booster's text (a BINUNICODE str in the pickle) converts on its own; the rows
  // include the ones onnxmltools' test feeds it.
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-lgbm-wild-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it("onnxmltools' lightgbm example.pkl: the Booster LightGBM 2.2 pickled", async () => {
    const data = readFileSync(join(WILD, 'onnxmltools-lightgbm-example.pkl'));
    const at = data.indexOf('tree\nversion=');
    const text = data.subarray(at, at + data.readUInt32LE(at - 4));
    writeFileSync(join(tmp, 'model.txt'), text);
    const expected = JSON.parse(
      readFileSync(join(WILD, 'onnxmltools-lightgbm-example.json'), 'utf8'),
    ) as Expected;
    const summary = await check(join(tmp, 'model.txt'), expected);
    expect(summary.tree[0]).toContain('objective=multiclass num_class:3 n_features=2 n_trees=336');
  });

  // What is not converted fails with one line naming the attribute, before any output exists.
  const edited = (name: string, edit: (text: string) => string) => {
    const path = join(tmp, name);
    writeFileSync(path, edit(readFileSync(join(DIR, 'regression.txt'), 'utf8')));
    return path;
  };
  it.each([
    [
      'a linear tree',
      (t: string) => t.replace('is_linear=0', 'is_linear=1'),
      'FERRY_SKLEARN_UNSUPPORTED',
      /LightGBM Booster\.Tree=0\.is_linear: not converted to ONNX: linear trees/,
    ],
    [
      'an objective LightGBM does not write',
      (t: string) => t.replace('objective=regression', 'objective=made_up'),
      'FERRY_SKLEARN_UNSUPPORTED',
      /LightGBM Booster\.objective: not converted to ONNX: made_up is not converted/,
    ],
    [
      'a category past 2^24',
      (t: string) =>
        t
          .replace('num_cat=0', 'num_cat=1')
          .replace(/decision_type=(\d+)/, 'decision_type=1')
          .replace(/threshold=[^ \n]+/, 'threshold=0')
          .replace(
            'is_linear=0',
            `cat_boundaries=0 524289\ncat_threshold=${'0 '.repeat(524288)}1\nis_linear=0`,
          )
          .replace(/tree_sizes=.*\n/, ''),
      'FERRY_LIGHTGBM_MODEL',
      /LightGBM model Tree=0 node 0: category 16777216 is over MAX_LIGHTGBM_CATEGORY 16777216/,
    ],
  ])('refuses %s', async (_, edit, code, message) => {
    await expect(convertSklearnToOnnx(edited('edited.txt', edit))).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });
});
