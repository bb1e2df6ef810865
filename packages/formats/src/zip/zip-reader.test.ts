import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BufferSource } from '../tensor/byte-source.js';
import { openMember, openZip, readLocalHeader } from './zip-reader.js';

const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;
const CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;

describe('zip reader', () => {
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
