import { isZfile, type ZfileHeader, zfileHeader } from './joblib-zfile.js';
import type { ByteReader } from './byte-reader.js';
import { decodeBzip2Stream } from './bzip2.js';
import { decodeLz4Frame } from './lz4-frame.js';
import { decodeLzmaAloneStream } from './lzma-alone.js';
import type { OutputBuffer } from './output-buffer.js';
import { decodeXzStream } from './xz.js';

/**
 * Every compression joblib.dump(compress=...) writes (joblib/compressor.py, joblib 1.2), and
 * `zf`: joblib < 0.10's own zlib container (joblib-zfile.ts), which joblib.load still reads.
 */
export type CompressionName = 'zlib' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'lz4' | 'zf';

export interface Compression {
  readonly name: CompressionName;
  /** Whether a file's first bytes are this compression's (joblib's prefix, checked tighter). */
  readonly matches: (head: Uint8Array) => boolean;
  /** Decodes one stream; absent for zlib and gzip (node:zlib streams them). */
  readonly decodeStream?: (reader: ByteReader, out: OutputBuffer) => void;
  /**
   * Compressions whose streams the Python reader goes on decoding after this one ends
   * (bz2.BZ2File, lzma.LZMAFile with FORMAT_AUTO, LZ4FrameFile read concatenated streams).
   */
  readonly followedBy: readonly CompressionName[];
  /** A container header before the stream (ZF): where the stream starts, the length it declares. */
  readonly header?: (head: Uint8Array, path: string) => ZfileHeader;
}

const starts = (head: Uint8Array, bytes: readonly number[]) => bytes.every((b, i) => head[i] === b);

/**
 * One table, by magic. joblib's prefixes (_ZLIB_PREFIX b'x', _GZIP_PREFIX, _BZ2_PREFIX b'BZ',
 * _XZ_PREFIX, _LZMA_PREFIX b']\x00', _LZ4_PREFIX) are checked with a little more of each
 * header, so a pickle that happens to start with 'x' or 'BZ' is not taken for a stream.
 */
export const COMPRESSIONS: readonly Compression[] = [
  {
    name: 'gzip',
    matches: (h) => starts(h, [0x1f, 0x8b]),
    followedBy: [],
  },
  {
    // RFC 1950 section 2.2: CM 8 (deflate) in CMF 0x78, and FCHECK makes CMF*256+FLG a multiple of 31.
    name: 'zlib',
    matches: (h) => h.length > 1 && h[0] === 0x78 && ((h[0] << 8) | h[1]!) % 31 === 0,
    followedBy: [],
  },
  {
    // "BZh" and a block size digit 1-9 (bzip2 decompress.c BZ_X_MAGIC_1..4).
    name: 'bz2',
    matches: (h) => starts(h, [0x42, 0x5a, 0x68]) && h[3]! >= 0x31 && h[3]! <= 0x39,
    decodeStream: decodeBzip2Stream,
    followedBy: ['bz2'],
  },
  {
    name: 'xz',
    matches: (h) => starts(h, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    decodeStream: decodeXzStream,
    followedBy: ['xz', 'lzma'],
  },
  {
    // Properties 0x5d (lc 3, lp 0, pb 2: every preset) and a dictionary size's low byte 0.
    name: 'lzma',
    matches: (h) => starts(h, [0x5d, 0x00]),
    decodeStream: decodeLzmaAloneStream,
    followedBy: ['xz', 'lzma'],
  },
  {
    name: 'zf',
    matches: isZfile,
    followedBy: [],
    header: zfileHeader,
  },
  {
    name: 'lz4',
    matches: (h) => starts(h, [0x04, 0x22, 0x4d, 0x18]),
    decodeStream: decodeLz4Frame,
    followedBy: ['lz4'],
  },
];

/** Which compression a file's first bytes (8 or more) are, if any. */
export function compressionOf(head: Uint8Array): Compression | undefined {
  return COMPRESSIONS.find((c) => c.matches(head));
}
