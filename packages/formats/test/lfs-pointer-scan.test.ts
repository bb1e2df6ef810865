import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../src/detect.js';
import { scanPaths } from '../src/scan-folder.js';

// Issue #18: a clone without `git lfs pull` leaves pointers where the models were. They are text,
// but not data to call safe: inspect and scan name what they are (exit 2), and a folder holding
// one is not shown safe. The pointer is the Git LFS spec's own example.
const POINTER = `version https://git-lfs.github.com/spec/v1
oid sha256:4d7a214614ab2935c943f9e0ff69f22eadbb8f32b1258daaa5e2ca24d17e2393
size 12345
`;
const dir = mkdtempSync(join(tmpdir(), 'ferry-lfs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const REASON =
  'not a model file ferry recognises (a git-LFS pointer to a 12345-byte file (oid sha256:4d7a214614ab2935c943f9e0ff69f22eadbb8f32b1258daaa5e2ca24d17e2393), not the file itself: fetch it with `git lfs pull` or from the hub)';

describe('git-LFS pointers in place of model files', () => {
  it('detect names the pointer, the size and the fix', async () => {
    const path = join(dir, 'ggml-vocab.gguf');
    writeFileSync(path, POINTER);
    await expect(detectFormat(path)).rejects.toThrow(`${path}: ${REASON}`);
  });

  it('scan makes it an error, never safe text, alone or in a folder', async () => {
    writeFileSync(join(dir, 'model.safetensors'), POINTER);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert"}');
    const results = await scanPaths(dir);
    const byName = Object.fromEntries(results.map((r) => [r.path.slice(dir.length + 1), r]));
    expect(byName['config.json']?.verdict).toBe('safe');
    expect(byName['model.safetensors']).toMatchObject({
      verdict: 'error',
      format: 'unknown',
      error: { code: 'FERRY_UNKNOWN_FORMAT', message: `${join(dir, 'model.safetensors')}: ${REASON}` },
    });
  });
});
