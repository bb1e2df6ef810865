import { describe, expect, it } from 'vitest';
import { BufferSource } from '../tensor/byte-source.js';
import { wholeFileIsModelProto } from './whole-file-model.js';

const is = (bytes: number[]) => wholeFileIsModelProto(new BufferSource(Uint8Array.from(bytes)));

describe('wholeFileIsModelProto (onnx.load reads any fields, ferry detection only known ones)', () => {
  it('accepts top-level fields ending at the end of the file with a graph, unknown fields included', async () => {
    expect(await is([0x08, 0x07, 0x3a, 0x02, 0x0a, 0x00])).toBe(true); // ir_version 7, graph {name: ''}
    expect(await is([0x4a, 0x02, 0x80, 0x02, 0x3a, 0x00])).toBe(true); // unknown field 9 first (a pickle's bytes)
    expect(await is([0x3a, 0x00, 0x4d, 1, 2, 3, 4, 0x49, 1, 2, 3, 4, 5, 6, 7, 8])).toBe(true); // fixed32/64
  });

  it('refuses files that are not one: no graph, bytes left over, groups, field 0, lengths past the end', async () => {
    expect(await is([0x08, 0x07])).toBe(false);
    expect(await is([0x3a, 0x00, 0x08])).toBe(false);
    expect(await is([0x3b, 0x3a, 0x00])).toBe(false);
    expect(await is([0x02, 0x00, 0x3a, 0x00])).toBe(false);
    expect(await is([0x3a, 0x05, 0x00])).toBe(false);
    expect(await is([0x50, 0x4b, 0x03, 0x04])).toBe(false); // a zip's local header
  });
});
