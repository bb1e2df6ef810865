import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  bufferInput,
  compressionOf,
  DEFAULT_LIMITS,
  decompress,
  decompressHead,
} from '../src/compression/index.js';
import { FerryError } from '../src/errors.js';

// Real streams from Python's compressors (fixtures/make/compressed_files.py), mutated: each
// decode ends in its output or a FerryError, never another exception or a hang.
const DIR = new URL('../../../fixtures/compression/', import.meta.url);
const streams = readdirSync(DIR)
  .filter((name) =>
    /^(small|double|data-1|data|data-crc32|data-sha256|data-independent-checksum|data-blockcheck|evil-.*)\.(bz2|lzma|xz|lz4|zlib|gz|joblib)$/.test(
      name,
    ),
  )
  .map((name) => new Uint8Array(readFileSync(new URL(name, DIR))));
/** Small limits: a mutation that inflates is stopped early, not after 1 GiB. */
const LIMITS = { ...DEFAULT_LIMITS, maxBytes: 4 * 1024 * 1024, ratioFreeBytes: 1024 * 1024 };

const mutate = fc
  .record({
    file: fc.nat(streams.length - 1),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    splice: fc.option(fc.record({ from: fc.nat(), to: fc.nat(), length: fc.nat(64) }), { nil: undefined }),
  })
  .map(({ file, flips, cut, splice }) => {
    let bytes = new Uint8Array(streams[file]!);
    // Keep the magic so the decoder, not detection, meets the damage.
    for (const { at, value } of flips) bytes[6 + (at % Math.max(1, bytes.length - 6))] = value;
    if (splice) {
      const from = splice.from % bytes.length;
      bytes.copyWithin(
        6 + (splice.to % Math.max(1, bytes.length - 6)),
        from,
        Math.min(from + splice.length, bytes.length),
      );
    }
    if (cut !== undefined) bytes = bytes.subarray(0, 6 + (cut % Math.max(1, bytes.length - 5)));
    return bytes;
  });

async function onlyFerryErrors(bytes: Uint8Array): Promise<void> {
  const compression = compressionOf(bytes);
  if (!compression) return;
  try {
    decompressHead(compression, bytes, 'fuzz', 4096);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
  try {
    await decompress(compression, bufferInput(bytes), 'fuzz', LIMITS);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
}

describe('compressed-stream fuzz: only FerryError comes out', () => {
  it(`mutations of ${streams.length} Python-written bz2, lzma, xz, lz4, zlib and gzip streams`, async () => {
    await fc.assert(fc.asyncProperty(mutate, onlyFerryErrors), { numRuns: 600, seed: 16 });
  });
});
