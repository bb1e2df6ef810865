import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedConversion } from './cache.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic "converter": the bytes a key must always give, counting its calls. */
function converter(seed: number) {
  let calls = 0;
  const bytes = Uint8Array.from({ length: 300 + seed }, (_, i) => (i * 31 + seed) & 0xff);
  return {
    bytes,
    calls: () => calls,
    convert: async () => {
      calls++;
      return bytes;
    },
  };
}
const request = (key: string, convert: () => Promise<Uint8Array>) => ({
  cacheDir: dir,
  key,
  format: 'test',
  source: '/nowhere',
  entry: '',
  convert,
});

describe('cachedConversion', () => {
  it('converts once, then hits; concurrent requests share one conversion', async () => {
    const c = converter(1);
    const results = await Promise.all(
      [1, 2, 3].map(() => cachedConversion(request('a'.repeat(64), c.convert))),
    );
    expect(results.map((r) => r.state)).toEqual(['built', 'built', 'built']);
    expect(c.calls()).toBe(1);
    expect((await cachedConversion(request('a'.repeat(64), c.convert))).state).toBe('hit');
    expect(c.calls()).toBe(1);
    expect(new Uint8Array(readFileSync(results[0]!.path))).toEqual(c.bytes);
  });

  it('fuzz: bit flips, truncations and splices of the ONNX file or its record never serve other bytes', async () => {
    const c = converter(2);
    const key = 'b'.repeat(64);
    await cachedConversion(request(key, c.convert));
    const onnx = join(dir, `${key}.onnx`);
    const record = join(dir, `${key}.json`);
    const mutation = fc.record({
      file: fc.constantFrom(onnx, record),
      kind: fc.constantFrom('flip', 'truncate', 'splice', 'delete'),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
      junk: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ file, kind, at, bit, junk }) => {
        const original = readFileSync(file);
        const bytes = new Uint8Array(original);
        const i = at % bytes.length;
        let changed: Uint8Array | undefined;
        if (kind === 'flip') {
          bytes[i]! ^= 1 << bit;
          changed = bytes;
        } else if (kind === 'truncate') changed = bytes.subarray(0, i);
        else if (kind === 'splice') changed = Buffer.concat([bytes.subarray(0, i), junk, bytes.subarray(i)]);
        if (changed) writeFileSync(file, changed);
        else rmSync(file);
        const before = c.calls();
        const result = await cachedConversion(request(key, c.convert));
        // a changed ONNX file is always rebuilt; a record may change harmlessly (its `source` text)
        if (file === onnx) expect(result.state).not.toBe('hit');
        expect(c.calls()).toBe(result.state === 'hit' ? before : before + 1);
        expect(new Uint8Array(readFileSync(result.path))).toEqual(c.bytes);
        // and the rebuilt entry is whole again
        expect((await cachedConversion(request(key, c.convert))).state).toBe('hit');
      }),
      { numRuns: 200 },
    );
    expect(readdirSync(dir).filter((f) => f.includes('ferry-tmp'))).toEqual([]);
  });

  it('refuses a cache folder that is a file', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const error = await cachedConversion({
      ...request('c'.repeat(64), converter(3).convert),
      cacheDir: file,
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('FERRY_SERVE_CACHE');
  });
});
