import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { openModel } from '../../src/open.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const JOBLIB = new URL('../../../../fixtures/pickle/joblib/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${JOBLIB}expected.json`, 'utf8')) as {
  files: Record<string, Record<string, { shape: number[]; descr: string; sha256: string }>>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('joblib and pickled NumPy arrays equal what NumPy wrote', () => {
  it.each(Object.keys(expected.files))('%s', async (file) => {
    const model = await openModel(JOBLIB + file);
    try {
      const byName = new Map(model.tensors.map((t) => [t.name, t]));
      const opaque = new Set((model.opaque ?? []).map((t) => t.name));
      for (const [name, spec] of Object.entries(expected.files[file]!)) {
        const ref = byName.get(name);
        if (!ref) {
          // Structured dtypes (a tree's node records) have no ferry dtype: reported, not dropped.
          expect(opaque.has(name), `${file}: ${name}`).toBe(true);
          continue;
        }
        expect(ref.shape).toEqual(spec.shape);
        expect(sha(await readTensorBytes(ref)), `${file}: ${name}`).toBe(spec.sha256);
      }
    } finally {
      await model.close();
    }
  });

  it('names joblib files joblib and shows the estimator graph', async () => {
    expect(await detectFormat(`${JOBLIB}pipeline.joblib`)).toBe('joblib');
    expect(await detectFormat(`${JOBLIB}arrays_p4.pkl`)).toBe('pickle');
    const model = await openModel(`${JOBLIB}pipeline.joblib`);
    try {
      expect(model.details?.objects).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^steps\.1\.1: sklearn\.linear_model\._logistic\.LogisticRegression \(.*coef_/,
          ),
        ]),
      );
      expect(model.tensors.map((t) => t.name)).toEqual(
        expect.arrayContaining(['steps.1.1.coef_', 'steps.0.1.mean_']),
      );
    } finally {
      await model.close();
    }
  });

  it("names files compressed by any of joblib's six compressions joblib, by their bytes", async () => {
    for (const method of ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4']) {
      expect(await detectFormat(`${JOBLIB}arrays_${method}.joblib`), method).toBe('joblib');
      const model = await openModel(`${JOBLIB}arrays_${method}.joblib`);
      try {
        expect(model.format).toBe('joblib');
        expect(model.findings?.filter((f) => f.severity !== 'info')).toEqual([]);
      } finally {
        await model.close();
      }
    }
    // A compressed pickle that is not joblib's: still found by its bytes, as a pickle.
    const evil = new URL('../../../../fixtures/compression/evil-bz2.joblib', import.meta.url).pathname;
    expect(await detectFormat(evil)).toBe('pickle');
  });

  it('shows an XGBoost classifier as data: its booster is raw model bytes', async () => {
    const model = await openModel(`${JOBLIB}xgboost.joblib`);
    try {
      expect(model.findings?.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(model.details?.objects).toEqual(
        expect.arrayContaining([expect.stringMatching(/^_Booster: xgboost\.core\.Booster/)]),
      );
      expect((model.details!.values as Record<string, unknown>)['_Booster.handle']).toMatch(/^<\d+ bytes>$/);
    } finally {
      await model.close();
    }
  });

  it('reports object arrays as opaque', async () => {
    const model = await openModel(`${JOBLIB}arrays.joblib`);
    try {
      expect(model.opaque?.map((t) => t.name)).toEqual(['objects']);
      expect(model.tensors.find((t) => t.name === 'fortran')?.strides).toEqual([1, 2]);
      expect(model.tensors.find((t) => t.name === 'big_endian')?.byteOrder).toBe('big');
    } finally {
      await model.close();
    }
  });
});
