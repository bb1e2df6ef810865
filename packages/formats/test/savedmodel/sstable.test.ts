import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../src/errors.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { decodeBlock, FOOTER_BYTES, readTable } from '../../src/savedmodel/sstable.js';
import { buildBlock, buildTable, bytes } from '../../../../scripts/test/sstable-builder.js';

const FIXTURES = '/work/shared/fixtures/savedmodel';
const decoder = new TextDecoder();
const keysOf = async (file: Uint8Array): Promise<string[]> =>
  (await readTable(new BufferSource(file, 't.index'))).map((e) => decoder.decode(e.key));

async function codeOf(file: Uint8Array): Promise<string> {
  try {
    await readTable(new BufferSource(file, 't.index'));
    return 'ok';
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return error.code;
  }
}

const entries = (n: number): [Uint8Array, Uint8Array][] =>
  Array.from({ length: n }, (_, i) => [bytes(`layer/${String(i).padStart(4, '0')}/kernel`), bytes(`v${i}`)]);

describe('SSTable reader', () => {
  it('reads TensorFlow-written (snappy-compressed) index files', async () => {
    const tf1 = readFileSync(`${FIXTURES}/saved_model_half_plus_two_cpu/00000123/variables/variables.index`);
    expect(await keysOf(tf1)).toEqual(['', 'a', 'a2', 'b', 'c', 'c2']);
    const tf2 = readFileSync(
      `${FIXTURES}/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables.index`,
    );
    expect(await keysOf(tf2)).toEqual([
      '',
      '_CHECKPOINTABLE_OBJECT_GRAPH',
      'a/.ATTRIBUTES/VARIABLE_VALUE',
      'b/.ATTRIBUTES/VARIABLE_VALUE',
      'c/.ATTRIBUTES/VARIABLE_VALUE',
    ]);
  });

  it('walks many blocks, restart points and shared prefixes', async () => {
    const all = entries(100);
    const table = buildTable(all, { blockEntries: 7 });
    const read = await readTable(new BufferSource(table, 't.index'));
    expect(read.map((e) => decoder.decode(e.key))).toEqual(all.map(([k]) => decoder.decode(k)));
    expect(read.map((e) => decoder.decode(e.value))).toEqual(all.map(([, v]) => decoder.decode(v)));
    // One block with restarts every 3 entries decodes the same.
    const block = buildBlock(all.slice(0, 20), 3);
    expect(decodeBlock(block, 't', 0, 'block').map((e) => decoder.decode(e.key))).toEqual(
      all.slice(0, 20).map(([k]) => decoder.decode(k)),
    );
  });

  it('rejects a bad magic, short files, bad checksums and unknown compression', async () => {
    const good = buildTable(entries(5));
    const badMagic = good.slice();
    badMagic[badMagic.length - 1] ^= 0xff;
    expect(await codeOf(badMagic)).toBe('FERRY_SSTABLE_STRUCTURE');
    expect(await codeOf(good.subarray(0, FOOTER_BYTES - 1))).toBe('FERRY_SSTABLE_STRUCTURE');
    expect(await codeOf(good.subarray(10))).toBe('FERRY_SSTABLE_STRUCTURE');
    expect(await codeOf(buildTable(entries(5), { corruptCrc: true }))).toBe('FERRY_SAVEDMODEL_CHECKSUM');
    expect(await codeOf(buildTable(entries(5), { compressionType: 7 }))).toBe('FERRY_UNSUPPORTED');
    const flipped = good.slice();
    flipped[3] ^= 0x20; // inside the first data block: caught by its crc
    expect(await codeOf(flipped)).toBe('FERRY_SAVEDMODEL_CHECKSUM');
  });

  it('rejects malformed blocks', () => {
    const code = (block: number[]): string => {
      try {
        decodeBlock(Uint8Array.from(block), 't', 0, 'block');
        return 'ok';
      } catch (error) {
        if (!isFerryError(error)) throw error;
        return error.code;
      }
    };
    // Restart count larger than the block can hold.
    expect(code([0, 0, 0, 0, 9, 0, 0, 0])).toBe('FERRY_SSTABLE_STRUCTURE');
    // A first entry that claims to share bytes with a previous key.
    expect(code([2, 1, 0, 97, 0, 0, 0, 0, 1, 0, 0, 0])).toBe('FERRY_SSTABLE_STRUCTURE');
    // Entry longer than the block.
    expect(code([0, 9, 0, 97, 0, 0, 0, 0, 1, 0, 0, 0])).toBe('FERRY_SSTABLE_STRUCTURE');
    // Keys out of order: "b" then "a".
    expect(code([0, 1, 0, 98, 0, 1, 0, 97, 0, 0, 0, 0, 1, 0, 0, 0])).toBe('FERRY_SSTABLE_STRUCTURE');
    // Restart point outside the entries.
    expect(code([0, 1, 0, 97, 40, 0, 0, 0, 1, 0, 0, 0])).toBe('FERRY_SSTABLE_STRUCTURE');
    // A well-formed block passes.
    expect(code([0, 1, 0, 97, 1, 1, 0, 98, 0, 0, 0, 0, 1, 0, 0, 0])).toBe('ok');
    expect(code([1, 2])).toBe('FERRY_SSTABLE_STRUCTURE');
  });

  it('rejects keys that go backwards across blocks', async () => {
    const all = entries(8);
    const swapped = [...all.slice(4), ...all.slice(0, 4)];
    expect(await codeOf(buildTable(swapped, { blockEntries: 4 }))).toBe('FERRY_SSTABLE_STRUCTURE');
  });
});
