import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/sklearn/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-sklearn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry convert MODEL.joblib -o model.onnx', () => {
  it('converts a pipeline and prints one line naming estimator, features and outputs', async () => {
    const out = join(dir, 'ct.onnx');
    const result = await runCli(['convert', join(FIXTURES, 'column_transformer.joblib'), '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /ct\.onnx: 10 tensors, .* \(sklearn\) in \d+\.\d\d s; sklearn\.pipeline\.Pipeline \(classifier, 4 features\) as 17 ONNX nodes, outputs label, probabilities\n$/,
    );
    const model = onnx.decodeModel(readFileSync(out));
    expect(onnx.checkModel(model)).toEqual([]);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });

  it('XGBoost UBJSON, --json', async () => {
    const out = join(dir, 'x.onnx');
    const result = await runCli(['convert', join(FIXTURES, 'xgb_multi.ubj'), '-o', out, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ format: 'xgboost', kind: 'classifier', features: 4 });
  });

  it('an unsupported estimator is one line naming class and attribute; exit 2, no file', async () => {
    const out = join(dir, 'svc.onnx');
    const result = await runCli(['convert', join(FIXTURES, 'unsupported_svc.joblib'), '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^ferry convert: FERRY_SKLEARN_UNSUPPORTED: .*SVC\.\(class\): not converted to ONNX/,
    );
    expect(() => readFileSync(out)).toThrow();
  });

  it('inspect shows the estimator tree', async () => {
    const result = await runCli(['inspect', join(FIXTURES, 'column_transformer.joblib')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'estimator:\n  Pipeline\n    ct: ColumnTransformer n_features=4\n      num: Pipeline\n',
    );
    expect(result.stdout).toContain(
      '    clf: RandomForestClassifier classes=[0, 1, 2] n_features=9 n_estimators=3',
    );
  });
});
