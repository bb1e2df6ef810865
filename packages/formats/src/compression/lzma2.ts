import type { ByteReader } from './byte-reader.js';
import { LzmaDecoder, type LzmaProperties, parseProperties } from './lzma-decoder.js';
import type { OutputBuffer } from './output-buffer.js';

/** LZMA2's dictionary-size byte (xz file format 5.3.1): 40 means 4 GiB - 1, more is invalid. */
export function lzma2DictionarySize(byte: number): number | undefined {
  if (byte > 40) return undefined;
  if (byte === 40) return 0xffffffff;
  return (2 | (byte & 1)) * 2 ** (Math.floor(byte / 2) + 11);
}

/**
 * Decodes LZMA2 chunks up to the end byte 0x00 (liblzma lzma2_decoder.c): control 0x01/0x02 is
 * an uncompressed chunk (with/without dictionary reset); 0x80-0xff an LZMA chunk whose bits 5-6
 * say what resets (nothing, state, state + properties, everything) and whose sizes are given,
 * so each chunk must decode to exactly its size from exactly its bytes.
 */
export function decodeLzma2(reader: ByteReader, out: OutputBuffer, dictSize: number): void {
  const decoder = new LzmaDecoder(reader, out, dictSize);
  let needDictReset = true;
  let needProps = true;
  let needState = true;
  let props: LzmaProperties | undefined;
  for (;;) {
    const at = reader.offset;
    const control = reader.byte('LZMA2 chunk');
    if (control === 0x00) return;
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) {
        // liblzma: a dictionary reset means the next LZMA chunk must set properties.
        decoder.resetDictionary();
        needDictReset = false;
        needProps = true;
      } else if (needDictReset) reader.fail('the first LZMA2 chunk does not reset the dictionary', at);
      const size = ((reader.byte('LZMA2 chunk size') << 8) | reader.byte('LZMA2 chunk size')) + 1;
      out.ensure(size);
      reader.copyInto(out.buf, out.pos, size, 'LZMA2 uncompressed chunk');
      out.pos += size;
      continue;
    }
    if (control < 0x80) reader.fail(`LZMA2 control byte 0x${control.toString(16)} is invalid`, at);
    const unpacked =
      (control & 0x1f) * 0x10000 +
      ((reader.byte('LZMA2 chunk size') << 8) | reader.byte('LZMA2 chunk size')) +
      1;
    const packed = ((reader.byte('LZMA2 chunk size') << 8) | reader.byte('LZMA2 chunk size')) + 1;
    const reset = (control >>> 5) & 3;
    if (reset === 3) {
      decoder.resetDictionary();
      needDictReset = false;
    } else if (needDictReset) reader.fail('the first LZMA2 chunk does not reset the dictionary', at);
    if (reset >= 2) {
      const byte = reader.byte('LZMA2 properties');
      props = parseProperties(byte);
      if (!props || props.lc + props.lp > 4)
        reader.fail(`LZMA2 properties byte ${byte} is invalid (lc + lp > 4)`, at);
      decoder.setProperties(props);
      needProps = false;
    } else if (needProps) reader.fail('an LZMA2 chunk without properties before any were set', at);
    if (reset >= 1) {
      decoder.resetState();
      needState = false;
    } else if (needState) reader.fail('an LZMA2 chunk continues a state that was never set', at);
    const dataAt = reader.offset;
    decoder.initRange();
    decoder.decode(out.pos + unpacked, false);
    if (reader.offset - dataAt !== packed || !decoder.rangeFinished()) {
      reader.fail(
        `the LZMA chunk declares ${packed} compressed bytes but used ${reader.offset - dataAt}`,
        dataAt,
      );
    }
  }
}
