import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertToSafetensors } from '../src/to-safetensors.js';
import { openModel, readTensorBytes } from '../src/formats.js';

const TORCH = new URL('../../../fixtures/pickle/torch/', import.meta.url).pathname;
const CORPUS = new URL('../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${TORCH}expected.json`, 'utf8')) as {
  files: Record<string, Record<string, { sha256: string }>>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'ferry-pickle-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("convert torch files to safetensors: the bytes are torch's", () => {
  it.each(Object.keys(expected.files).filter((f) => f !== 'special.pt'))('%s', async (file) => {
    const out = join(dir, `${file}.safetensors`);
    const result = await convertToSafetensors(TORCH + file, out);
    const converted = await openModel(out);
    try {
      const byName = new Map(converted.tensors.map((t) => [t.name, t]));
      for (const [name, spec] of Object.entries(expected.files[file]!)) {
        // Tied weights are written once; the other name is recorded in __metadata__.
        const kept = result.shared[name] ?? name;
        if (kept !== name) expect(converted.metadata[name]).toBe(kept);
        const ref = byName.get(kept);
        expect(ref, `${file}: ${name}`).toBeDefined();
        expect(sha(await readTensorBytes(ref!)), `${file}: ${name}`).toBe(spec.sha256);
      }
    } finally {
      await converted.close();
    }
  });

  it('refuses sparse, meta and quantized tensors by name', async () => {
    await expect(convertToSafetensors(`${TORCH}special.pt`, join(dir, 's.safetensors'))).rejects.toThrow(
      /sparse .*meta .*q \(qtensor/,
    );
  });

  it('refuses to convert a hostile checkpoint', async () => {
    await expect(
      convertToSafetensors(`${CORPUS}zip_torch_hostile.pt`, join(dir, 'x.safetensors')),
    ).rejects.toMatchObject({
      code: 'FERRY_PICKLE_REFUSED',
    });
  });
});
