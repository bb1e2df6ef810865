import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTo, getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';

// LightGBM models served: a text model (model.lgb.txt in a repository; any name alone, found by
// its bytes) and an LGBMClassifier joblib, converted to ONNX-ML at load and answered by ONNX
// Runtime, compared with LightGBM's predictions (fixtures/make/lightgbm_models.py).
const FIXTURES = fileURLToPath(new URL('../../../fixtures/lightgbm/', import.meta.url));

interface Expected {
  X: (number | null)[][];
  label?: (number | string)[];
  probabilities?: number[][];
  lightgbm?: number[][];
}
const load = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Expected;

/** Rows in concurrent requests of 16 (the default max_batch_size is 32), outputs joined back in order. */
async function infer(server: TestServer, model: string, rows: (number | null)[][]) {
  const starts = Array.from({ length: Math.ceil(rows.length / 16) }, (_, i) => i * 16);
  const answers = await Promise.all(
    starts.map((start) => {
      const part = rows.slice(start, start + 16);
      return postJson(`${server.url}/v2/models/${model}/infer`, {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [part.length, part[0]!.length], data: part.flat() },
        ],
      });
    }),
  );
  const out: Record<string, (number | string)[]> = {};
  for (const { status, json } of answers) {
    expect({ status, error: json.error }).toEqual({ status: 200, error: undefined });
    for (const o of json.outputs as { name: string; data: (number | string)[] }[])
      out[o.name] = [...(out[o.name] ?? []), ...o.data];
  }
  return out;
}

describe('ferry serve with LightGBM models', () => {
  let dir: string;
  let repo: TestServer;
  let single: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-serve-lightgbm-'));
    mkdirSync(join(dir, 'repo', 'cats', '1'), { recursive: true });
    mkdirSync(join(dir, 'repo', 'clf', '1'), { recursive: true });
    cpSync(join(FIXTURES, 'multiclass_categorical.txt'), join(dir, 'repo', 'cats', '1', 'model.lgb.txt'));
    cpSync(
      join(FIXTURES, 'lgbm_classifier_binary_joblib.joblib'),
      join(dir, 'repo', 'clf', '1', 'model.joblib'),
    );
    repo = await startTestServer(join(dir, 'repo'), { cacheDir: join(dir, 'cache') });
    single = await startTestServer(join(FIXTURES, 'wild_lg_dart_breast_cancer.txt'), {
      cacheDir: join(dir, 'cache'),
    });
  });
  afterAll(async () => {
    await repo?.close();
    await single?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the converted text model', async () => {
    const { status, json } = await getJson(`${repo.url}/v2/models/cats`);
    expect(status).toBe(200);
    expect(json.platform).toBe('sklearn_onnx');
    expect(json.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 5] }]);
  });

  it("answers the categorical text model's and the LGBMClassifier's labels and probabilities", async () => {
    for (const [model, name] of [
      ['cats', 'multiclass_categorical'],
      ['clf', 'lgbm_classifier_binary_joblib'],
    ] as const) {
      const expected = load(name);
      // Rows without missing values: JSON cannot carry NaN.
      const keep = expected.X.map((r, i) => [r, i] as const).filter(([r]) => r.every((v) => v !== null));
      const out = await infer(
        repo,
        model,
        keep.map(([r]) => r),
      );
      expect(out.label).toEqual(keep.map(([, i]) => expected.label![i]));
      expect(
        closeTo(
          out.probabilities! as number[],
          keep.flatMap(([, i]) => expected.probabilities![i]!),
          1e-5,
        ),
      ).toBe(true);
    }
  });

  it("a LightGBM-made text file served alone answers LightGBM's own probabilities", async () => {
    const expected = load('wild_lg_dart_breast_cancer');
    const out = await infer(single, 'wild_lg_dart_breast_cancer', expected.X);
    const positive = (out.probabilities! as number[]).filter((_, i) => i % 2 === 1);
    expect(closeTo(positive, expected.lightgbm!.flat(), 1e-5)).toBe(true);
  });
});
