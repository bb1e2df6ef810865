import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  bufferInput,
  compressionOf,
  DEFAULT_LIMITS,
  type DecompressLimits,
  decompress,
  decompressHead,
} from '../src/compression/index.js';

// Streams written by Python's bz2, lzma, lz4.frame, zlib and gzip (fixtures/make/compressed_files.py).
const DIR = new URL('../../../fixtures/compression/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as {
  payloads: Record<string, { sha256: string; length: number }>;
  streams: Record<string, string>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));

async function inflate(name: string, bytes = read(name), limits: DecompressLimits = DEFAULT_LIMITS) {
  const compression = compressionOf(bytes);
  if (!compression) throw new Error(`${name}: no compression magic`);
  return decompress(compression, bufferInput(bytes), name, limits);
}

const ONE_PER_FORMAT = [
  'data-1.bz2',
  'data.lzma',
  'data-crc64.xz',
  'data-linked-checksum.lz4',
  'data.zlib',
  'data.gz',
];

describe('decoders reproduce what Python compressed', () => {
  it.each(Object.entries(expected.streams).filter(([n]) => n !== 'delta.xz'))('%s', async (name, which) => {
    const { bytes, trailing } = await inflate(name);
    expect(trailing).toBe(0);
    expect(bytes.length).toBe(expected.payloads[which]!.length);
    expect(sha(bytes)).toBe(expected.payloads[which]!.sha256);
  });

  it('refuses an xz filter it does not decode, by name', async () => {
    await expect(inflate('delta.xz')).rejects.toMatchObject({
      code: 'FERRY_UNSUPPORTED',
      message: expect.stringMatching(/xz filter delta at byte 12/),
    });
  });
});

describe('bounded: the total and the ratio limits stop every decoder', () => {
  it.each(ONE_PER_FORMAT)('%s over a 64 KiB total is FERRY_LIMIT', async (name) => {
    const limits = { ...DEFAULT_LIMITS, maxBytes: 64 * 1024 };
    await expect(inflate(name, read(name), limits)).rejects.toMatchObject({
      code: 'FERRY_LIMIT',
      message: expect.stringMatching(
        /output is at least \d+ bytes, over the limit of 65536 bytes, MAX_DECOMPRESSED_BYTES/,
      ),
    });
  });

  it.each(ONE_PER_FORMAT)('%s over a 2:1 ratio past 32 KiB is FERRY_LIMIT', async (name) => {
    const limits = { ...DEFAULT_LIMITS, maxRatio: 2, ratioFreeBytes: 32 * 1024 };
    await expect(inflate(name, read(name), limits)).rejects.toMatchObject({
      code: 'FERRY_LIMIT',
      message: expect.stringMatching(
        /compressed bytes \(\d+:1\), over the limit of 2:1 once past 32768 bytes/,
      ),
    });
  });

  it.each(['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'])(
    'the %s bomb (20 MiB of zeros) stops at the ratio limit, before it is all inflated',
    async (method) => {
      const error = await inflate(`bomb-${method}.joblib`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'FERRY_LIMIT' });
      const need = Number(/at least (\d+) bytes/.exec((error as Error).message)![1]);
      expect(need).toBeGreaterThan(DEFAULT_LIMITS.ratioFreeBytes);
      expect(need).toBeLessThan(20 * 1024 * 1024);
    },
  );
});

describe('checks and structure', () => {
  it('a wrong xz CRC64 is FERRY_COMPRESSED_CHECKSUM with both values', async () => {
    const bytes = read('data-crc64.xz');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const indexSize = (view.getUint32(bytes.length - 8, true) + 1) * 4;
    const check = bytes.length - 12 - indexSize - 8;
    bytes[check]! ^= 1;
    await expect(inflate('data-crc64.xz', bytes)).rejects.toMatchObject({
      code: 'FERRY_COMPRESSED_CHECKSUM',
      message: expect.stringMatching(
        new RegExp(`xz block CRC64 check at byte ${check} is [0-9a-f]{16}, the data gives`),
      ),
    });
  });

  it('a wrong bz2 stream CRC and a wrong lz4 content checksum are caught', async () => {
    const bz2 = read('small.bz2');
    bz2[bz2.length - 2]! ^= 0x10;
    await expect(inflate('small.bz2', bz2)).rejects.toMatchObject({
      code: 'FERRY_COMPRESSED_CHECKSUM',
      message: expect.stringContaining('bz2 stream CRC check'),
    });
    const lz4 = read('data-linked-checksum.lz4');
    lz4[lz4.length - 1]! ^= 0x10;
    await expect(inflate('x.lz4', lz4)).rejects.toMatchObject({
      code: 'FERRY_COMPRESSED_CHECKSUM',
      message: expect.stringContaining('lz4 content checksum check'),
    });
  });

  it('reports bytes after the last stream that start no stream, as the Python readers ignore them', async () => {
    const bytes = new Uint8Array([...read('small.bz2'), 0x6a, 0x75, 0x6e, 0x6b]);
    const { bytes: out, trailing } = await inflate('small.bz2', bytes);
    expect(trailing).toBe(4);
    expect(sha(out)).toBe(expected.payloads.small!.sha256);
  });

  it('detection inflates just the first bytes, from a cut-off head (bz2, lz4: their whole first block)', () => {
    for (const name of ONE_PER_FORMAT) {
      const bytes = read(name);
      const cut = /\.(bz2|lz4)$/.test(name) ? bytes : bytes.subarray(0, 4096);
      const head = decompressHead(compressionOf(bytes)!, cut, name, 100);
      expect(new TextDecoder().decode(head), name).toBe(
        'line 0 of the ferry decoder fixture: \nline 1 of the ferry decoder fixture: abc\nline 2 of the ferry d',
      );
    }
  });

  it('refuses by name what joblib never writes: randomised bz2 blocks, an unknown xz check', async () => {
    const bz2 = read('small.bz2');
    // The bit after "BZh9", the block magic and the block CRC (bzip2 0.9.0's randomised flag).
    bz2[14]! |= 0x80;
    await expect(inflate('small.bz2', bz2)).rejects.toMatchObject({
      code: 'FERRY_UNSUPPORTED',
      message: expect.stringContaining('bz2 block at byte 4 is not supported: randomised blocks'),
    });
    const xz = read('empty.xz');
    xz[7] = 0x02; // check ID 2: reserved (4-byte checks 0x01-0x03), with a valid flags CRC
    new DataView(xz.buffer, xz.byteOffset).setUint32(8, crc32(xz.subarray(6, 8)) >>> 0, true);
    await expect(inflate('empty.xz', xz)).rejects.toMatchObject({
      code: 'FERRY_UNSUPPORTED',
      message: expect.stringContaining('xz check type 2 at byte 7'),
    });
  });
});
