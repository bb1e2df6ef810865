import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferSource, FileSource } from '../../src/tensor/byte-source.js';
import { findEntry, looksLikeZip, openMember, openZip, readLocalHeader } from '../../src/zip/index.js';

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

describe('zip reader (archives written by PyTorch, which always adds ZIP64 end records)', () => {
  const torchscript = new URL('../../../../fixtures/torchscript/mlp_traced.pt', import.meta.url).pathname;

  it('reads a torch.jit.save archive, also with data prepended', async () => {
    const bytes = readFileSync(torchscript);
    for (const prefix of [0, 17]) {
      const zip = await openZip(
        new BufferSource(new Uint8Array([...new Uint8Array(prefix), ...bytes]), 'm.pt'),
      );
      expect(zip.entries).toHaveLength(15);
      expect(zip.prefixBytes).toBe(prefix);
      const version = await openMember(zip, findEntry(zip, 'mlp_traced/version')!);
      expect(new TextDecoder().decode(await version.read(0, version.size)).trim()).toMatch(/^\d+$/);
    }
  });
});

const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;
const CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;

describe('zip reader (PyTorch archives, scanner helpers)', () => {
  it("reads PyTorch's archives, which always carry a ZIP64 end record", async () => {
    const zip = await openZip(new BufferSource(readFileSync(`${TORCH}state_dict.pt`), 'state_dict.pt'));
    expect(zip.prefixBytes).toBe(0);
    expect(zip.entries.map((e) => e.name)).toContain('state_dict/data.pkl');
  });

  it('finds the real offsets when data is prepended to a ZIP64 archive', async () => {
    const original = readFileSync(`${TORCH}state_dict.pt`);
    const prefixed = Buffer.concat([Buffer.alloc(100, 0x41), original]);
    const zip = await openZip(new BufferSource(prefixed, 'prefixed.pt'));
    expect(zip.prefixBytes).toBe(100);
    const entry = zip.entries.find((e) => e.name === 'state_dict/version')!;
    const member = await openMember(zip, entry);
    expect(new TextDecoder().decode(await member.read(0, member.size)).trim()).toBe('3');
  });

  it('reads local headers as written, for comparison with the central directory', async () => {
    const zip = await openZip(new BufferSource(readFileSync(`${CORPUS}zip_odd_flags.pt`), 'z'));
    const local = await readLocalHeader(zip, zip.entries[0]!);
    expect(local.name).toBe(zip.entries[0]!.name);
    expect(local.flags & 0x10).toBe(0x10);
  });
});
