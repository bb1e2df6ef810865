import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { isServeError } from '../../src/errors.js';
import { convertingBackend } from '../../src/backends/converting.js';

/**
 * The convert-at-load mechanism with a format other than SavedModel: a gzip-compressed ONNX file,
 * written as a format plug-in of the same shape a scikit-learn one would have (one file, no
 * entries). Its converted model runs on onnxruntime and answers what fixtures/serve/expected.json says.
 */
const SERVE = fileURLToPath(new URL('../../../../fixtures/serve/', import.meta.url));
const expected = JSON.parse(readFileSync(join(SERVE, 'expected.json'), 'utf8')).mlp as {
  inputs: { x: { shape: number[]; data: number[] } };
  outputs: { y: { shape: number[]; data: number[] } };
};

const work = mkdtempSync(join(tmpdir(), 'ferry-converting-'));
const cacheDir = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));

let conversions = 0;
const gzipOnnx = convertingBackend({
  name: 'onnx-gz',
  platform: 'onnx_onnxv1',
  fileNames: ['model.onnx.gz'],
  converterVersion: '1',
  sourceRoot: (path) => path,
  async convert(path) {
    conversions++;
    return gunzipSync(readFileSync(path));
  },
});

describe('convertingBackend with a one-file format', () => {
  const file = join(work, 'model.onnx.gz');
  writeFileSync(file, gzipSync(readFileSync(join(SERVE, 'mlp/1/model.onnx'))));

  it('converts once, caches by digest, and serves the result on onnxruntime', async () => {
    for (let round = 0; round < 2; round++) {
      const loaded = await gzipOnnx.load(file, { cacheDir });
      try {
        expect(loaded.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 8] }]);
        const instance = await loaded.createInstance();
        const x = Float32Array.from(expected.inputs.x.data);
        const out = await instance.run(
          new Map([
            ['x', { datatype: 'FP32', shape: expected.inputs.x.shape, bytes: new Uint8Array(x.buffer) }],
          ]),
          ['y'],
        );
        const y = out.get('y')!;
        expect(y.shape).toEqual(expected.outputs.y.shape);
        const got = [...new Float32Array(new Uint8Array((y as { bytes: Uint8Array }).bytes).buffer)];
        for (const [i, v] of got.entries())
          expect(Math.abs(v - expected.outputs.y.data[i]!)).toBeLessThan(1e-5);
        await instance.close();
      } finally {
        await loaded.close();
      }
    }
    expect(conversions).toBe(1);
    expect(readdirSync(cacheDir).sort()).toHaveLength(2);
    expect(await gzipOnnx.entries!(file, { cacheDir })).toEqual([{ key: '', primary: true }]);
  });

  it('a changed source is a new cache entry; a source that cannot convert is one FERRY_SERVE_LOAD line', async () => {
    writeFileSync(file, gzipSync(readFileSync(join(SERVE, 'identity/1/model.onnx'))));
    await (await gzipOnnx.load(file, { cacheDir })).close();
    expect(conversions).toBe(2);
    expect(readdirSync(cacheDir)).toHaveLength(4);
    writeFileSync(file, 'not gzip');
    const error = await gzipOnnx.load(file, { cacheDir }).catch((e: unknown) => e);
    expect(isServeError(error) && error.code).toBe('FERRY_SERVE_LOAD');
    expect((error as Error).message).toMatch(
      /model\.onnx\.gz: cannot load model: conversion to ONNX failed: /,
    );
    const [entry] = await gzipOnnx.entries!(file, { cacheDir });
    expect(entry!.skipped).toMatch(/incorrect header check/);
  });
});
