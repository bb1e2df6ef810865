import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffModels } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { convertToSafetensors } from '../src/to-safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-convert-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diffModels', () => {
  it('matches a tied weight written once (removed -> kept in metadata) in either direction', async () => {
    const checkpoint = fileURLToPath(
      new URL('../../../fixtures/pickle/torch/state_dict.pt', import.meta.url),
    );
    const converted = join(dir, 'tied.safetensors');
    await convertToSafetensors(checkpoint, converted);
    for (const [x, y] of [
      [checkpoint, converted],
      [converted, checkpoint],
    ] as const) {
      const report = await diffModels(x, y);
      expect(report.onlyInA).toEqual([]);
      expect(report.onlyInB).toEqual([]);
      expect(report.equal).toBe(true);
      expect(report.tensors.find((t) => t.name === 'out.weight')?.status).toBe('equal');
    }
  });
});
