import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { diffModels } from '../../src/diff.js';
import { inspectModel } from '../../src/inspect.js';
import { scanPath } from '../../src/scan.js';

// LightGBM pickles in the layouts LightGBM writes (fixtures/make/lightgbm_models.py), the text
// models, and onnxmltools' real LightGBM 2.2 pickle: scanned, detected and inspected.
const DIR = new URL('../../../../fixtures/lightgbm/', import.meta.url).pathname;
const WILD = new URL('../../../../fixtures/wild/', import.meta.url).pathname;

describe('LightGBM pickles are data', () => {
  it.each([
    'lgbm_classifier_binary.pkl',
    'lgbm_classifier_binary_joblib.joblib',
    'lgbm_classifier_multi_v3.joblib',
    'lgbm_regressor.pkl',
    'lgbm_ranker.joblib',
    'lgbm_booster.pkl',
    'lgbm_pipeline.joblib',
  ])('%s scans safe with no findings', async (file) => {
    const result = await scanPath(DIR + file);
    expect({ verdict: result.verdict, findings: result.findings }).toEqual({ verdict: 'safe', findings: [] });
  });

  it("a custom objective stays a finding: _fobj wraps the user's function, which is code", async () => {
    const result = await scanPath(`${DIR}lgbm_custom_objective_unsafe.pkl`);
    expect(result.verdict).toBe('unsafe');
    const messages = result.findings.map((f) => f.message).join('\n');
    expect(messages).toContain('lightgbm.sklearn._ObjectiveFunctionWrapper');
    expect(messages).toContain('__main__.custom_objective');
    expect(messages).not.toMatch(/lightgbm\.(basic\.Booster|sklearn\.LGBMRegressor)\b/);
  });

  it("onnxmltools' example.pkl: LightGBM 2.2's classes pass; only sklearn 0.20 module paths remain", async () => {
    const result = await scanPath(`${WILD}onnxmltools-lightgbm-example.pkl`);
    const named = result.findings.map((f) => f.message);
    expect(named.some((m) => m.includes('lightgbm'))).toBe(false);
    // sklearn < 0.22 defined these under modules 1.2 no longer has (the generated allowlist's scope).
    expect(named).toEqual([
      expect.stringContaining('sklearn.decomposition.truncated_svd.TruncatedSVD'),
      expect.stringContaining('sklearn.preprocessing.label.LabelEncoder'),
    ]);
  });

  it('inspect shows the estimator, its objective, features and trees', async () => {
    const report = await inspectModel(`${DIR}lgbm_classifier_multi_v3.joblib`);
    expect(report.format).toBe('joblib');
    expect(report.details?.estimator).toEqual([
      expect.stringMatching(
        /^LGBMClassifier classes=\[3, 5, 7\] objective=multiclass num_class:3 n_features=5 n_trees=12 n_classes=3 best_iteration=2$/,
      ),
    ]);
    // The Booster's model text is shown by its length, not printed (MAX_DETAIL_TEXT).
    expect((report.details!.values as Record<string, unknown>)['_Booster.handle']).toMatch(
      /^<str of \d+ characters>$/,
    );
  });
});

describe('LightGBM text models', () => {
  it('are detected by their first line, whatever the name', async () => {
    expect(await detectFormat(`${DIR}wild_lg_dart_breast_cancer.txt`)).toBe('lightgbm');
    expect(await detectFormat(`${DIR}multiclass_categorical.txt`)).toBe('lightgbm');
  });

  it('scan safe: numbers and names only', async () => {
    const result = await scanPath(`${DIR}wild_lg_kddcup99_first3.txt`);
    expect(result).toMatchObject({ format: 'lightgbm', verdict: 'safe', findings: [] });
  });

  it('inspect shows objective, classes, trees, features and categorical splits', async () => {
    const report = await inspectModel(`${DIR}wild_lg_kddcup99_first3.txt`);
    expect(report.format).toBe('lightgbm');
    expect(report.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [-1, 41] }]);
    expect(report.details).toMatchObject({
      version: 'v2',
      objective: 'multiclass num_class:13',
      num_class: 13,
      trees: 39,
      iterations: 3,
      features: 41,
    });
    expect(report.details?.categorical_splits).toBeGreaterThan(0);
    expect((report.details!.feature_names as string[])[40]).toBe('Column_40');
  });

  it('a broken file is an error verdict naming the rule, not safe', async () => {
    const text = readFileSync(`${DIR}binary_missing.txt`, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-lgbm-'));
    writeFileSync(`${dir}/bad.txt`, text.replace('left_child=1 -2', 'left_child=0 -2'));
    const result = await scanPath(`${dir}/bad.txt`);
    expect(result.verdict).toBe('error');
    expect(result.error?.code).toBe('FERRY_LIGHTGBM_MODEL');
    expect(result.error?.message).toContain('Tree=0 node 0: child 0 does not come after its parent');
  });
});

describe('ferry diff compares LightGBM models by their tree arrays', () => {
  it('a model equals itself, a retrained leaf differs, and another model differs in shape', async () => {
    const path = `${DIR}binary_random.txt`;
    const text = readFileSync(path, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-lgbm-diff-'));
    // the same trees with the first leaf value of the first tree changed, as retraining would
    const changed = join(dir, 'changed.txt');
    writeFileSync(
      changed,
      text.replace(/^leaf_value=(\S+)/m, (_m, first: string) => `leaf_value=${Number(first) + 0.5}`),
    );
    const same = await diffModels(path, path);
    expect(same.equal).toBe(true);
    expect(same.tensors.map((t) => t.name)).toEqual(
      expect.arrayContaining(['leaf_value', 'threshold', 'split_feature', 'left_child', 'right_child']),
    );
    const retrained = await diffModels(path, changed);
    expect(retrained.equal).toBe(false);
    const leaf = retrained.tensors.find((t) => t.name === 'leaf_value');
    expect(leaf).toMatchObject({ status: 'different', maxAbsDiff: expect.closeTo(0.5, 9) });
    expect(retrained.tensors.filter((t) => t.status !== 'equal').map((t) => t.name)).toEqual(['leaf_value']);
    const other = await diffModels(path, `${DIR}binary_missing.txt`);
    expect(other.equal).toBe(false);
  });
});
