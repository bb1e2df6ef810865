import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTo, getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';

// scikit-learn models served from their joblib files: converted to ONNX-ML at load (nothing is
// unpickled), answered by ONNX Runtime, compared with what sklearn itself predicted.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/sklearn/', import.meta.url));
const expected = JSON.parse(readFileSync(join(FIXTURES, 'forest_classifier_iris.json'), 'utf8')) as {
  X: number[][];
  label: number[];
  probabilities: number[][];
};

describe('ferry serve with scikit-learn joblib files', () => {
  let dir: string;
  let repo: TestServer;
  let single: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-serve-sklearn-'));
    mkdirSync(join(dir, 'repo', 'iris', '1'), { recursive: true });
    cpSync(join(FIXTURES, 'forest_classifier_iris.joblib'), join(dir, 'repo', 'iris', '1', 'model.joblib'));
    repo = await startTestServer(join(dir, 'repo'), { cacheDir: join(dir, 'cache') });
    // a single file under any name: its bytes say it is a joblib estimator
    single = await startTestServer(join(FIXTURES, 'forest_classifier_iris.joblib'), {
      cacheDir: join(dir, 'cache'),
    });
  });
  afterAll(async () => {
    await repo?.close();
    await single?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the converted model', async () => {
    const { status, json } = await getJson(`${repo.url}/v2/models/iris`);
    expect(status).toBe(200);
    expect(json.platform).toBe('sklearn_onnx');
    expect(json.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
  });

  it("answers sklearn's labels and probabilities, from a repository and from a single file", async () => {
    // rows in concurrent requests of up to 8 (the default max_batch_size is 32): batched back together
    const chunks = Array.from({ length: Math.ceil(expected.X.length / 8) }, (_, i) => i * 8);
    for (const [server, model] of [
      [repo, 'iris'],
      [single, 'forest_classifier_iris'],
    ] as const) {
      const answers = await Promise.all(
        chunks.map((start) => {
          const rows = expected.X.slice(start, start + 8);
          return postJson(`${server.url}/v2/models/${model}/infer`, {
            inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
          });
        }),
      );
      answers.forEach(({ status, json }, i) => {
        expect({ status, error: json.error }).toEqual({ status: 200, error: undefined });
        const outputs = Object.fromEntries(
          (json.outputs as { name: string; data: number[] }[]).map((o) => [o.name, o.data]),
        );
        const start = chunks[i]!;
        expect(outputs.label).toEqual(expected.label.slice(start, start + 8));
        expect(
          closeTo(outputs.probabilities!, expected.probabilities.slice(start, start + 8).flat(), 1e-5),
        ).toBe(true);
      });
    }
  });
});

// joblib.dump(model, path, compress=(METHOD, 3)) with each compression joblib 1.2 writes
// (fixtures/make/compressed_files.py): served exactly like the uncompressed file.
describe('ferry serve with compressed joblib files', () => {
  const METHODS = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'] as const;
  let dir: string;
  let server: TestServer;
  let single: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-serve-compressed-'));
    for (const method of METHODS) {
      mkdirSync(join(dir, 'repo', `forest_${method}`, '1'), { recursive: true });
      cpSync(
        join(FIXTURES, `forest_${method}.joblib`),
        join(dir, 'repo', `forest_${method}`, '1', 'model.joblib'),
      );
    }
    server = await startTestServer(join(dir, 'repo'), { cacheDir: join(dir, 'cache') });
    // A single file: its bytes ("BZh9") say it is a compressed joblib estimator.
    single = await startTestServer(join(FIXTURES, 'forest_bz2.joblib'), { cacheDir: join(dir, 'cache') });
  });
  afterAll(async () => {
    await server?.close();
    await single?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(METHODS)("a %s-compressed forest answers sklearn's labels and probabilities", async (method) => {
    const stored = JSON.parse(readFileSync(join(FIXTURES, `forest_${method}.json`), 'utf8')) as {
      X: number[][];
      label: number[];
      probabilities: number[][];
    };
    const { status: metaStatus, json: meta } = await getJson(`${server.url}/v2/models/forest_${method}`);
    expect({ metaStatus, platform: meta.platform }).toEqual({ metaStatus: 200, platform: 'sklearn_onnx' });
    const { status, json } = await postJson(`${server.url}/v2/models/forest_${method}/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [stored.X.length, 4], data: stored.X.flat() }],
    });
    expect({ status, error: json.error }).toEqual({ status: 200, error: undefined });
    const outputs = Object.fromEntries(
      (json.outputs as { name: string; data: number[] }[]).map((o) => [o.name, o.data]),
    );
    expect(outputs.label).toEqual(stored.label);
    expect(closeTo(outputs.probabilities!, stored.probabilities.flat(), 1e-5)).toBe(true);
  });

  it('a single bz2-compressed file is served under its file name', async () => {
    const stored = JSON.parse(readFileSync(join(FIXTURES, 'forest_bz2.json'), 'utf8')) as {
      X: number[][];
      label: number[];
    };
    const { status, json } = await postJson(`${single.url}/v2/models/forest_bz2/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [stored.X.length, 4], data: stored.X.flat() }],
    });
    expect(status).toBe(200);
    expect(
      (json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'label')?.data,
    ).toEqual(stored.label);
  });
});
