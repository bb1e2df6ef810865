import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { BufferSource, FileSource } from '../tensor/byte-source.js';
import { findEntry, looksLikeZip, openMember, openZip } from './zip-reader.js';

const fixture = (name: string) => new URL(`../../../../fixtures/zip/${name}`, import.meta.url).pathname;
const expected: Record<string, string> = JSON.parse(readFileSync(fixture('expected.json'), 'utf8'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('zip reader (archives written by CPython zipfile)', () => {
  it.each(['stored.zip', 'deflated.zip', 'zip64.zip', 'prefixed.zip'])(
    'reads every member of %s byte for byte',
    async (name) => {
      const source = await FileSource.open(fixture(name));
      try {
        const zip = await openZip(source);
        expect(zip.entries.map((e) => e.name).sort()).toEqual(Object.keys(expected).sort());
        for (const entry of zip.entries) {
          const member = await openMember(zip, entry);
          expect(member.size).toBe(entry.size);
          expect(sha256(await member.read(0, member.size))).toBe(expected[entry.name]);
        }
        expect(zip.prefixBytes).toBe(name === 'prefixed.zip' ? 27 : 0);
      } finally {
        await source.close();
      }
    },
  );

  it('hands out stored members as windows of the archive (no copy, no inflate)', async () => {
    const bytes = readFileSync(fixture('stored.zip'));
    const zip = await openZip(new BufferSource(bytes));
    const member = await openMember(zip, findEntry(zip, 'archive/data/0')!);
    const first = await member.read(0, 4);
    expect([...first]).toEqual([0, 0, 0x80, 0x3f]);
    expect(looksLikeZip(bytes)).toBe(true);
    expect(looksLikeZip(new Uint8Array([0x80, 2]))).toBe(false);
  });

  it('refuses a file without an end record, and a truncated archive', async () => {
    await expect(openZip(new BufferSource(new Uint8Array(100), 'x.zip'))).rejects.toThrow(
      /x.zip: zip end of central directory: not found/,
    );
    const bytes = readFileSync(fixture('stored.zip'));
    await expect(openZip(new BufferSource(bytes.subarray(0, bytes.length - 30)))).rejects.toBeInstanceOf(
      FerryError,
    );
  });

  it('only ever throws FerryError on mutated archives', async () => {
    const original = readFileSync(fixture('deflated.zip'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (flips) => {
          const bytes = Uint8Array.from(original);
          for (const [at, value] of flips) bytes[at] = value;
          try {
            const zip = await openZip(new BufferSource(bytes));
            for (const entry of zip.entries) {
              const member = await openMember(zip, entry);
              await member.read(0, member.size);
            }
          } catch (error) {
            if (!(error instanceof FerryError)) throw error;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
