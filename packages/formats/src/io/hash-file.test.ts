import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from './hash-file.js';

const dir = await mkdtemp(join(tmpdir(), 'ferry-hash-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sha256File', () => {
  it.each([0, 1, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 9 * 1024 * 1024 + 7])(
    'equals node:crypto over the whole file for %i bytes (across read-buffer boundaries)',
    async (size) => {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}`);
      await writeFile(path, bytes);
      expect(await sha256File(path)).toBe(createHash('sha256').update(bytes).digest('hex'));
    },
  );

  it('rejects a missing file with its errno', async () => {
    await expect(sha256File(join(dir, 'absent'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
