import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { readGguf } from '../../src/gguf/read-gguf.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { GgufBuilder } from '../gguf-builder.helper.js';

// Issue #18: copies of llama.cpp's vocab GGUFs in other repositories fail with a key length of
// 108 GB. They are the original bytes passed through a UTF-8 decode/encode round trip; this is
// that exact transformation (TextDecoder replaces each invalid byte with U+FFFD).
const throughText = (bytes: Uint8Array): Uint8Array =>
  new TextEncoder().encode(new TextDecoder().decode(bytes));

const FLOAT32 = 6;
const STRING = 8;
const UINT32 = 4;

/** A vocab-style GGUF (v3, no tensors): a string, the float llama.cpp writes (1e-5), a count. */
function vocabLike(tokenText = 'llama'): Uint8Array {
  const eps = new Uint8Array(new Float32Array([1e-5]).buffer); // AC C5 27 37, not UTF-8
  return new GgufBuilder()
    .header(3, 0, 3)
    .string('general.architecture')
    .u32(STRING)
    .string(tokenText)
    .string('llama.attention.layer_norm_rms_epsilon')
    .u32(FLOAT32)
    .bytes(eps)
    .string('llama.vocab_size')
    .u32(UINT32)
    .u32(32000)
    .build();
}

async function errorOf(bytes: Uint8Array): Promise<FerryError> {
  const error = await readGguf(new BufferSource(bytes, 'copy.gguf')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('GGUF decoded as text and written back', () => {
  it('the original reads; the round-tripped copy is refused naming the value that holds U+FFFD', async () => {
    const original = vocabLike();
    const file = await readGguf(new BufferSource(original, 'vocab.gguf'));
    expect(file.metadata.map((kv) => kv.key)).toContain('llama.vocab_size');

    const copy = throughText(original);
    expect(copy.length).toBeGreaterThan(original.length);
    const error = await errorOf(copy);
    expect(error.code).toBe('FERRY_GGUF_TEXT_MANGLED');
    expect(error.message).toContain('llama.attention.layer_norm_rms_epsilon (FLOAT32)');
    // The epsilon's value starts right after its key and type: 24 header + 8+20 + 4 + 8+5 + 8+38 + 4.
    expect(error.message).toContain('at byte 119');
    expect(error.message).toMatch(/header breaks after it \(metadata key 2 length at byte \d+ is \d+/);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('U+FFFD inside a string value is text, not damage: the file reads', async () => {
    const file = await readGguf(new BufferSource(vocabLike('tok\uFFFDen'), 'vocab.gguf'));
    expect(file.metadata[0]!.value).toBe('tok\uFFFDen');
  });

  it('a number that happens to hold EF BF BD is not blamed when the header is sound', async () => {
    const bytes = new GgufBuilder()
      .header(3, 0, 1)
      .string('odd.value')
      .u32(UINT32)
      .bytes([0xef, 0xbf, 0xbd, 0x00])
      .build();
    const file = await readGguf(new BufferSource(bytes, 'odd.gguf'));
    expect(file.metadata[0]!.value).toBe(0x00bdbfef);
  });

  it('a header broken without U+FFFD keeps its own error', async () => {
    const bytes = new GgufBuilder()
      .header(3, 0, 1)
      .u64(1n << 40n)
      .bytes(new Array(16).fill(0))
      .build();
    expect((await errorOf(bytes)).code).toBe('FERRY_LIMIT');
  });
});

// The real files (fixtures/wild/sources.json; `node fixtures/wild/check.mjs --fetch` puts them in
// .cache/, too big to commit). The copy is byte for byte the original through text.
const cache = new URL('../../../../fixtures/wild/.cache/', import.meta.url);
const pairs = ['bert-bge', 'llama-spm'].map((vocab) => ({
  vocab,
  original: new URL(`llama.cpp-ggml-vocab-${vocab}.gguf`, cache),
  copy: new URL(`copy-ggml-vocab-${vocab}.gguf`, cache),
}));
const fetched = pairs.every((p) => existsSync(p.original) && existsSync(p.copy));

// One test for both pairs: without the fetched files (CI is offline) it is the one skip.
describe('real llama.cpp vocab files and their copies (fixtures/wild, fetched)', () => {
  it.skipIf(!fetched)(
    'each original reads; each copy is the original through text and is refused',
    async () => {
      for (const { original, copy } of pairs) {
        const originalBytes = new Uint8Array(readFileSync(original));
        const copyBytes = new Uint8Array(readFileSync(copy));
        const file = await readGguf(new BufferSource(originalBytes, 'original.gguf'));
        expect(file.version).toBe(3);
        expect(file.metadata.some((kv) => kv.key === 'tokenizer.ggml.tokens')).toBe(true);
        expect(Buffer.from(throughText(originalBytes)).equals(Buffer.from(copyBytes))).toBe(true);
        expect((await errorOf(copyBytes)).code).toBe('FERRY_GGUF_TEXT_MANGLED');
      }
    },
  );
});
