import { ferryError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import { LzmaDecoder, parseProperties } from './lzma-decoder.js';
import type { OutputBuffer } from './output-buffer.js';

/**
 * Decodes one "LZMA alone" stream (.lzma, what Python's lzma.FORMAT_ALONE and so joblib's
 * 'lzma' compressor write; liblzma alone_decoder.c): a properties byte, a 32-bit dictionary
 * size, a 64-bit uncompressed size (all ones: unknown, the data ends with an end marker).
 */
export function decodeLzmaAloneStream(reader: ByteReader, out: OutputBuffer): void {
  const start = reader.offset;
  const header = reader.bytes(13, 'lzma header');
  const view = new DataView(header.buffer);
  const props = parseProperties(header[0]!);
  if (!props) reader.fail(`properties byte ${header[0]} is over 224`, start);
  const dictSize = view.getUint32(1, true);
  const size = view.getBigUint64(5, true);
  const known = size !== 0xffffffffffffffffn;
  // liblzma's alone decoder refuses sizes of 256 GiB and more (LZMA_MEMLIMIT aside).
  if (known && size >= 1n << 38n) reader.fail(`uncompressed size ${size} is 256 GiB or more`, start + 5);
  const target = known ? out.pos + Number(size) : Number.POSITIVE_INFINITY;
  const decoder = new LzmaDecoder(reader, out, Math.max(dictSize, 4096));
  decoder.setProperties(props);
  decoder.resetState();
  decoder.resetDictionary();
  decoder.initRange();
  // With a known size, an end marker may still follow the last byte (liblzma allows it).
  const ended = decoder.decode(target, true);
  if (known && !ended && out.pos === target) {
    // Nothing more to read for this stream.
  } else if (!ended) {
    throw ferryError('FERRY_COMPRESSED_TRUNCATED', {
      path: reader.path,
      format: 'lzma',
      offset: reader.offset,
      what: 'the end marker',
    });
  } else if (known && out.pos !== target) {
    reader.fail(
      `the end marker comes after ${out.pos - (target - Number(size))} bytes, the header says ${size}`,
    );
  }
  if (ended && !decoder.rangeFinished())
    reader.fail('the range coder does not end cleanly after the end marker');
}
