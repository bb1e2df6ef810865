import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleFeeds } from '../src/inputs.js';
import { encodeSamples, readSampleFile } from '../src/sample-data.js';

const FIXTURES = new URL('../../../fixtures/optimize/', import.meta.url).pathname;
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  { inputs: Record<string, { shape: number[]; data: number[] }> }
>;
const dir = mkdtempSync(join(tmpdir(), 'ferry-samples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sample files', () => {
  it('reads a .npy numpy wrote: the stored MLP inputs', async () => {
    const [t] = await readSampleFile(join(FIXTURES, 'mlp_samples.npy'));
    const stored = EXPECTED['mlp.onnx']!.inputs.x!;
    expect(t).toMatchObject({ dtype: 'F32', shape: stored.shape });
    expect([...new Float32Array(t!.bytes.buffer)]).toEqual(stored.data.map(Math.fround));
  });

  it('reads a compressed .npz numpy wrote, member x', async () => {
    const [t] = await readSampleFile(join(FIXTURES, 'transformer_samples.npz'));
    const stored = EXPECTED['transformer.onnx']!.inputs.x!;
    expect(t).toMatchObject({ name: 'x', dtype: 'F32', shape: stored.shape });
    expect([...new Float32Array(t!.bytes.buffer)]).toEqual(stored.data.map(Math.fround));
  });

  it('round-trips safetensors written by encodeSamples', async () => {
    const ids = new BigInt64Array([7n, 8n, 9n]);
    const path = join(dir, 's.safetensors');
    writeFileSync(
      path,
      encodeSamples([{ name: 'ids', dtype: 'I64', shape: [1, 3], bytes: new Uint8Array(ids.buffer) }]),
    );
    const [t] = await readSampleFile(path);
    expect(t).toMatchObject({ name: 'ids', dtype: 'I64', shape: [1, 3] });
    expect([...new BigInt64Array(t!.bytes.buffer)]).toEqual([7n, 8n, 9n]);
  });

  it('a lone .npy array feeds a one-input model whatever its name', async () => {
    const samples = await readSampleFile(join(FIXTURES, 'mlp_samples.npy'));
    const specs = [{ name: 'x', elem: 1, dims: [null, 32], intBound: 2 }];
    expect(samples[0]!.name).toBe('mlp_samples');
    expect(sampleFeeds(specs, samples, 'mlp_samples.npy')[0]!.x!.dims).toEqual([16, 32]);
  });

  it('refuses a file that is not sample data, naming the format', async () => {
    await expect(readSampleFile(join(FIXTURES, 'mlp.onnx'))).rejects.toMatchObject({
      code: 'FERRY_OPTIMIZE_DATA',
      message: expect.stringMatching(/it is onnx; sample inputs are safetensors, .npy or .npz/),
    });
    await expect(readSampleFile(join(dir, 'missing.npz'))).rejects.toMatchObject({ code: 'FERRY_NOT_FOUND' });
  });

  it('refuses a corrupt .npz with a FerryError', async () => {
    const path = join(dir, 'bad.npz');
    const bytes = readFileSync(join(FIXTURES, 'transformer_samples.npz'));
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(readSampleFile(path)).rejects.toMatchObject({ name: 'FerryError' });
  });
});
