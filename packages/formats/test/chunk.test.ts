import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkFile, chunkStream } from '../src/chunk/chunk-file.js';
import { MIN_ALIGNED_TENSOR_BYTES, TENSOR_PIECE_BYTES } from '../src/chunk/limits.js';
import { spansOf, tensorSpans } from '../src/chunk/tensor-spans.js';
import { writeSafetensors } from '../src/safetensors/write.js';
import { BufferSource } from '../src/tensor/byte-source.js';

const FIXTURES = join(__dirname, '../../../fixtures/chunk');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const temp = () => mkdtempSync(join(tmpdir(), 'ferry-chunk-'));

/** A GGUF v3 file with one f32 tensor (the llama.cpp layout: header, tensor infos, 32-aligned data). */
function gguf(name: string, data: Uint8Array, dims: number[]): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(1); // tensors
  u64(0); // metadata
  u64(name.length);
  parts.push(Buffer.from(name));
  u32(dims.length);
  for (const d of dims) u64(d);
  u32(0); // F32
  u64(0); // offset in the data section
  const head = Buffer.concat(parts);
  const pad = (32 - (head.length % 32)) % 32;
  return Buffer.concat([head, Buffer.alloc(pad), data]);
}

async function chunksOf(path: string, all?: Map<string, { start: number; end: number }[]>) {
  return chunkFile(path, await spansOf(path, all));
}

describe('chunkFile on real files', () => {
  it('gives tensor w the same chunk in torch, numpy, ONNX external data, safetensors and GGUF files', async () => {
    const w = expected.w.sha256 as string;
    const all = await tensorSpans([join(FIXTURES, 'model.onnx')]);
    const ids = new Map<string, string[]>();
    for (const file of ['model.pt', 'w.npy'])
      ids.set(
        file,
        (await chunksOf(join(FIXTURES, file))).chunks.map((c) => c.sha256),
      );
    ids.set(
      'model.onnx.data',
      (await chunksOf(join(FIXTURES, 'model.onnx.data'), all)).chunks.map((c) => c.sha256),
    );

    // The same bytes written by ferry's safetensors writer next to other tensors, and as GGUF.
    const npy = readFileSync(join(FIXTURES, 'w.npy'));
    const bytes = npy.subarray(npy.length - expected.w.bytes);
    expect(sha(bytes)).toBe(w);
    const dir = temp();
    const source = new BufferSource(Buffer.concat([randomBytes(3000), bytes]));
    await writeSafetensors(join(dir, 'm.safetensors'), [
      { name: 'a', dtype: 'F32', shape: [750], source, offset: 0, byteLength: 3000 },
      { name: 'w', dtype: 'F32', shape: expected.w.shape, source, offset: 3000, byteLength: bytes.length },
    ]);
    ids.set(
      'm.safetensors',
      (await chunksOf(join(dir, 'm.safetensors'))).chunks.map((c) => c.sha256),
    );
    writeFileSync(join(dir, 'm.gguf'), gguf('w', bytes, [8200, 2]));
    ids.set(
      'm.gguf',
      (await chunksOf(join(dir, 'm.gguf'))).chunks.map((c) => c.sha256),
    );

    for (const [file, list] of ids) expect(list, file).toContain(w);
  });

  it('reassembles every fixture exactly, with the whole-file sha256', async () => {
    for (const file of expected.files as string[]) {
      const path = join(FIXTURES, file);
      const bytes = readFileSync(path);
      const parts: Buffer[] = [];
      for await (const c of chunkStream(path, await spansOf(path))) {
        expect(sha(c.bytes)).toBe(c.sha256);
        parts.push(Buffer.from(c.bytes));
      }
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
      expect((await chunkFile(path)).sha256).toBe(sha(bytes));
    }
  });
});

describe('chunkFile properties', () => {
  const dir = temp();
  let n = 0;

  it('chunks concatenate to the file, and the same tensor bytes give the same chunks at any offset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: MIN_ALIGNED_TENSOR_BYTES, max: TENSOR_PIECE_BYTES + 200_000 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (before, after, tensorBytes, seed) => {
          const tensor = createHash('sha256').update(String(seed)).digest();
          const body = Buffer.alloc(tensorBytes);
          for (let i = 0; i < body.length; i += 32) tensor.copy(body, i, 0, Math.min(32, body.length - i));
          body.writeUInt32LE(seed >>> 0, 0);
          const files = [
            Buffer.concat([randomBytes(before), body, randomBytes(after)]),
            Buffer.concat([randomBytes(after + 17), body]),
          ];
          const starts = [before, after + 17];
          const lists = [];
          for (const [i, bytes] of files.entries()) {
            const path = join(dir, `f${n++}`);
            writeFileSync(path, bytes);
            const span = { start: starts[i]!, end: starts[i]! + tensorBytes };
            const chunked = await chunkFile(path, [span]);
            const parts: Buffer[] = [];
            for await (const c of chunkStream(path, [span])) parts.push(Buffer.from(c.bytes));
            expect(Buffer.concat(parts).equals(bytes)).toBe(true);
            expect(chunked.size).toBe(bytes.length);
            expect(chunked.sha256).toBe(sha(bytes));
            lists.push(
              chunked.chunks
                .filter((c) => c.offset >= span.start && c.offset < span.end)
                .map((c) => c.sha256),
            );
          }
          expect(lists[0]).toEqual(lists[1]);
          expect(lists[0]!.length).toBe(Math.ceil(tensorBytes / TENSOR_PIECE_BYTES));
        },
      ),
      { numRuns: 15 },
    );
  });
});
