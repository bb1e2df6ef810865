import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPath } from '../src/scan.js';
import { polyglotCorpus } from './polyglot-corpus.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-polyglot-'));

describe('polyglots: every reading of a file is scanned (#16.2)', () => {
  it.each(polyglotCorpus().map((p) => [p.name, p] as const))(
    '%s is never plain safe',
    async (name, polyglot) => {
      const path = join(dir, name);
      writeFileSync(path, polyglot.bytes);
      const result = await scanPath(path);
      expect(result.verdict).toBe('unsafe');
      // The payload is found in whichever reading holds it ...
      expect(result.findings).toContainEqual(
        expect.objectContaining({ severity: 'critical', message: expect.stringContaining('os.system') }),
      );
      // ... and the file is named for what it is, listing the formats that parse.
      const polyglotFinding = result.findings.find((f) => f.rule === 'polyglot');
      expect(polyglotFinding?.severity).toBe('medium');
      for (const format of polyglot.formats) {
        const named = format === 'zip' ? /zip|pytorch|npz/ : new RegExp(format);
        expect(polyglotFinding?.message).toMatch(named);
      }
    },
  );

  it('real single-format files get no polyglot finding', async () => {
    for (const file of [
      'onnx/mlp.onnx',
      'safetensors/small.safetensors',
      'numpy/float32.npy',
      'numpy/savez-compressed.npz',
      'gguf/tiny-v3-le.gguf',
      'pickle/torch/state_dict.pt',
      'torchscript/mlp_traced.pt',
    ]) {
      const result = await scanPath(new URL(`../../../fixtures/${file}`, import.meta.url).pathname);
      expect(
        result.findings.filter((f) => f.rule === 'polyglot'),
        file,
      ).toEqual([]);
      expect(result.verdict, file).toBe('safe');
    }
  });
});
