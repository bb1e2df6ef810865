import { ferryError } from '../errors.js';

/**
 * joblib < 0.10's compressed container (joblib/numpy_pickle_compat.py write_zfile/read_zfile):
 * b'ZF', the data length as Python's `'{:#x}'` padded with spaces to 19 characters
 * (_MAX_LEN = len(hex_str(2**64))), then one zlib stream. joblib <= 0.8.4 under Python 2 wrote one
 * more space, which read_zfile skips (a zlib stream never starts with a space, RFC 6713 2.1).
 * joblib.load still reads these files (load_compatibility) and asserts the inflated length.
 */
export const ZFILE_PREFIX_BYTES = 2;
export const ZFILE_LENGTH_FIELD_BYTES = 19;

export function isZfile(head: Uint8Array): boolean {
  // 'ZF0x': no other format starts so (Z is not a pickle opcode).
  return head[0] === 0x5a && head[1] === 0x46 && head[2] === 0x30 && head[3] === 0x78;
}

export interface ZfileHeader {
  /** Where the zlib stream starts. */
  readonly dataOffset: number;
  /** The length the header declares, which the inflated data must have. */
  readonly length: number;
}

/** Parses the header from the file's first 22 bytes (or fewer: then it is truncated). */
export function zfileHeader(head: Uint8Array, path: string): ZfileHeader {
  const end = ZFILE_PREFIX_BYTES + ZFILE_LENGTH_FIELD_BYTES;
  if (head.length < end) {
    throw ferryError('FERRY_COMPRESSED_TRUNCATED', {
      path,
      format: 'zf',
      offset: head.length,
      what: 'the ZF header',
    });
  }
  const text = new TextDecoder('latin1').decode(head.subarray(ZFILE_PREFIX_BYTES, end));
  // int(text, 16) as read_zfile does: surrounding whitespace, an optional 0x prefix, hex digits.
  const match = /^\s*0x([0-9a-fA-F]{1,13})\s*$/.exec(text);
  if (!match) {
    throw ferryError('FERRY_COMPRESSED_STREAM', {
      path,
      format: 'zf',
      offset: `${ZFILE_PREFIX_BYTES}`,
      reason: `the length field ${JSON.stringify(text.trim())} is not a hex number`,
    });
  }
  return { dataOffset: head[end] === 0x20 ? end + 1 : end, length: Number.parseInt(match[1]!, 16) };
}
