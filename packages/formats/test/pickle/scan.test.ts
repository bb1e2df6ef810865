import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scanPath } from '../../src/scan.js';
import { isAllowedGlobal } from '../../src/pickle/allowlist.js';
import { dangerReason } from '../../src/pickle/denylist.js';

const SHARED = '/work/shared/fixtures/pickles/';
const CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;
const JOBLIB = new URL('../../../../fixtures/pickle/joblib/', import.meta.url).pathname;
const ALLOWLIST = new URL('../../../../fixtures/pickle/allowlist/', import.meta.url).pathname;

describe.skipIf(!existsSync(SHARED))("picklescan's corpus", () => {
  const files = existsSync(SHARED) ? readdirSync(SHARED).filter((f) => f !== 'LICENSE') : [];
  it.each(files.filter((f) => f.startsWith('malicious')))('%s is unsafe', async (file) => {
    const result = await scanPath(SHARED + file);
    expect(result.verdict).toBe('unsafe');
    expect(result.findings.some((f) => f.severity === 'critical' || f.severity === 'high')).toBe(true);
  });
  it.each(files.filter((f) => f.startsWith('benign') || f.includes('pytorch_model')))(
    '%s is safe',
    async (file) => {
      const result = await scanPath(SHARED + file);
      expect(result.verdict).toBe('safe');
      expect(result.findings).toEqual([]);
    },
  );
  it('not_a_pickle.bin is an error', async () => {
    const result = await scanPath(`${SHARED}not_a_pickle.bin`);
    expect(result.verdict).toBe('error');
    expect(result.error?.code).toMatch(/^FERRY_/);
  });
  it('a broken pickle that reached builtins.exec first is unsafe, with its error kept', async () => {
    const result = await scanPath(`${SHARED}broken_model.pkl`);
    expect(result.verdict).toBe('unsafe');
    expect(result.error?.code).toBe('FERRY_PICKLE_TRUNCATED');
    expect(result.findings[0]).toMatchObject({
      severity: 'critical',
      message: expect.stringContaining('builtins.exec'),
    });
  });
  it('sees through the sys.modules override exploit', async () => {
    const result = await scanPath(`${SHARED}sys_module_override_sploit.pkl`);
    expect(result.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['global-mutation', 'unresolvable-global', 'unresolvable-call']),
    );
  });
  it('finds the payload in the second pickle of a stream', async () => {
    const result = await scanPath(`${SHARED}malicious6.pkl`);
    expect(result.findings[0]).toMatchObject({
      severity: 'critical',
      message: expect.stringContaining('requests.api.get'),
    });
  });
  it('finds a zip by its bytes, whatever its extension', async () => {
    const result = await scanPath(`${SHARED}malicious1_wrong_ext.zip`);
    expect(result.findings[0]?.location).toMatch(/^data\.txt byte \d+$/);
  });
});

describe('ferry corpus (every protocol, every bypass family)', () => {
  const expected = JSON.parse(readFileSync(`${CORPUS}expected.json`, 'utf8')) as Record<
    string,
    { verdict: string; rules: string[] }
  >;
  it.each(Object.entries(expected))('%s', async (file, want) => {
    const result = await scanPath(CORPUS + file);
    expect(result.verdict).toBe(want.verdict);
    const rules = result.findings.map((f) => f.rule);
    for (const rule of want.rules) expect(rules).toContain(rule);
    for (const f of result.findings) expect(f.location).toBeTruthy();
  });
});

describe('real producers scan clean', () => {
  const files = [
    ...readdirSync(TORCH)
      .filter((f) => !f.endsWith('.json'))
      .map((f) => TORCH + f),
    ...readdirSync(JOBLIB)
      .filter((f) => !f.endsWith('.json'))
      .map((f) => JOBLIB + f),
  ];
  it.each(files)('%s is safe', async (path) => {
    const result = await scanPath(path);
    expect(result.verdict).toBe('safe');
    expect(result.findings.every((f) => f.severity === 'info' || f.severity === 'low')).toBe(true);
  });
});

describe('policy', () => {
  it('allows exact reconstructor names only', () => {
    expect(isAllowedGlobal('torch._utils._rebuild_tensor_v2')).toBe(true);
    expect(isAllowedGlobal('collections.OrderedDict.fromkeys')).toBe(false);
    expect(isAllowedGlobal('sklearn.linear_model._base.LinearRegression')).toBe(true);
    expect(isAllowedGlobal('sklearn.utils.estimator_html_repr')).toBe(false);
  });
  it('allows a class only under the module that defines it (issue #24.3)', () => {
    // LogisticRegression lives in sklearn.linear_model._logistic; the package re-exports it.
    expect(isAllowedGlobal('sklearn.linear_model._logistic.LogisticRegression')).toBe(true);
    expect(isAllowedGlobal('sklearn.linear_model.LogisticRegression')).toBe(false);
    // CamelCase in an sklearn module is no longer enough: stdlib and joblib classes re-exported.
    for (const name of [
      'sklearn.datasets._covtype.GzipFile',
      'sklearn.utils._joblib.Memory',
      'sklearn.datasets._lfw.Memory',
      'sklearn.utils.fixes.Parallel',
      'sklearn.NotARealClass',
      'sklearn.linear_model._base.Estimator',
      'xgboost.sklearn.Booster',
      'joblib.Memory',
      'joblib.memory.Memory',
    ]) {
      expect(isAllowedGlobal(name), name).toBe(false);
    }
  });
  it('refuses every class sklearn and xgboost modules re-export from elsewhere', () => {
    const { reexports } = JSON.parse(readFileSync(`${ALLOWLIST}reexports.json`, 'utf8')) as {
      reexports: { module: string; name: string; definedIn: string }[];
    };
    // Made from the installed packages by fixtures/make/allowlist_classes.py: GzipFile, BZ2File,
    // Memory, Parallel, Path, TemporaryDirectory, urlopen's Request...
    expect(reexports.map((r) => `${r.module}.${r.name}`)).toEqual(
      expect.arrayContaining(['sklearn.datasets._covtype.GzipFile', 'sklearn.utils._joblib.Memory']),
    );
    const admitted = reexports.filter((r) => isAllowedGlobal(`${r.module}.${r.name}`));
    expect(admitted).toEqual([]);
  });
  it('scans a pickle that opens a GzipFile through an sklearn module as unsafe', async () => {
    const result = await scanPath(`${CORPUS}sklearn_reexport_gzipfile.pkl`);
    expect(result.verdict).toBe('unsafe');
    expect(result.findings.map((f) => f.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('sklearn.datasets._covtype.GzipFile')]),
    );
  });
  it('names the danger of known code-running globals', () => {
    for (const [m, n] of [
      ['os', 'system'],
      ['builtins', 'getattr'],
      ['importlib', 'import_module'],
      ['pip', 'main'],
      ['asyncio.subprocess', 'create_subprocess_shell'],
      ['types', 'CodeType'],
      ['torch.hub', 'load'],
      ['torch', 'load'],
      ['x', 'y.__globals__'],
    ]) {
      expect(dangerReason(m!, n!), `${m}.${n}`).toBeDefined();
    }
    expect(dangerReason('mypackage', 'helper')).toBeUndefined();
  });
});
