import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

// LightGBM through the CLI: a text model and an LGBMClassifier pickle (fixtures/make/lightgbm_models.py).
const FIXTURES = fileURLToPath(new URL('../../../../fixtures/lightgbm/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-lightgbm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry with LightGBM models', () => {
  it('convert model.txt -o x.onnx: one line naming objective, features and outputs', async () => {
    const out = join(dir, 'cats.onnx');
    const result = await runCli(['convert', join(FIXTURES, 'multiclass_categorical.txt'), '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /cats\.onnx: .* \(lightgbm\) in \d+\.\d\d s; lightgbm\.Booster \(multiclass num_class:3\) \(classifier, 5 features\) as \d+ ONNX nodes, outputs label, probabilities\n$/,
    );
    const model = onnx.decodeModel(readFileSync(out));
    expect(onnx.checkModel(model)).toEqual([]);
    expect(model.graph!.node!.map((n) => n.op_type)).toContain('TreeEnsembleRegressor');
  });

  it('convert an LGBMClassifier joblib, --json', async () => {
    const out = join(dir, 'clf.onnx');
    const result = await runCli([
      'convert',
      join(FIXTURES, 'lgbm_classifier_multi_v3.joblib'),
      '-o',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      format: 'sklearn',
      estimator: 'lightgbm.sklearn.LGBMClassifier',
      kind: 'classifier',
      features: 5,
      outputs: ['label', 'probabilities'],
    });
  });

  it('inspect --json and scan --json of a text model', async () => {
    const path = join(FIXTURES, 'wild_lg_rf_iris.txt');
    const inspected = await runCli(['inspect', path, '--json']);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      format: 'lightgbm',
      details: { objective: 'binary sigmoid:1', trees: 30, features: 4, average_output: true },
    });
    const scanned = await runCli(['scan', path, '--json']);
    expect(scanned.code).toBe(0);
    expect(JSON.parse(scanned.stdout)).toMatchObject({
      files: [{ format: 'lightgbm', verdict: 'safe', findings: [] }],
    });
  });

  it('a broken text model is one line naming tree and field; exit 2, no file', async () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(
      bad,
      readFileSync(join(FIXTURES, 'regression.txt'), 'utf8').replace(/split_feature=\d/, 'split_feature=9'),
    );
    const out = join(dir, 'bad.onnx');
    const result = await runCli(['convert', bad, '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^ferry convert: FERRY_LIGHTGBM_MODEL: .*bad\.txt: LightGBM model Tree=\d+ split_feature\[0\]: 9 is outside \[0, 4\]\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
