import { serveError } from '../errors.js';
import { MAX_BYTES_ELEMENT } from '../limits.js';
import { DATATYPE_SIZE, type Datatype } from '@ferry/serving-api';
import { elementCount, type Tensor } from '@ferry/serving-api';

/**
 * Raw tensor bytes as the binary tensor data extension (Triton's
 * docs/protocol/extension_binary_data.md) and gRPC raw_input_contents carry them: numeric
 * elements little-endian and packed; each BYTES element a 4-byte little-endian length then
 * its bytes.
 */
export function decodeRawTensor(
  datatype: Datatype,
  shape: readonly number[],
  raw: Uint8Array,
  input: string,
): Tensor {
  const count = elementCount(shape);
  if (datatype !== 'BYTES') {
    const expected = count * DATATYPE_SIZE[datatype];
    if (raw.byteLength !== expected)
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `binary data is ${raw.byteLength} bytes but shape [${shape.join(', ')}] of ${datatype} needs ${expected}`,
      });
    if (datatype === 'BOOL') checkBools(raw, input);
    return { datatype, shape, bytes: raw };
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const strings: Uint8Array[] = [];
  let offset = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength)
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `BYTES element ${strings.length}: length prefix at byte ${offset} runs past the end (${raw.byteLength} bytes)`,
      });
    const length = view.getUint32(offset, true);
    offset += 4;
    if (length > MAX_BYTES_ELEMENT || offset + length > raw.byteLength)
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `BYTES element ${strings.length}: ${length} bytes at byte ${offset} run past the end (${raw.byteLength} bytes)`,
      });
    if (strings.length === count)
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `binary data holds more than the ${count} BYTES elements shape [${shape.join(', ')}] needs`,
      });
    strings.push(raw.subarray(offset, offset + length));
    offset += length;
  }
  if (strings.length !== count)
    throw serveError('FERRY_SERVE_INPUT', {
      input,
      reason: `binary data holds ${strings.length} BYTES elements but shape [${shape.join(', ')}] needs ${count}`,
    });
  return { datatype, shape, strings };
}

/**
 * A BOOL element is one byte, 0 or 1 (ONNX and TensorFlow bool): any other byte has no meaning
 * the protocol defines, and runtimes differ on it (a C++ bool holding 2 is undefined behaviour).
 */
function checkBools(raw: Uint8Array, input: string): void {
  const bad = raw.findIndex((b) => b > 1);
  if (bad >= 0)
    throw serveError('FERRY_SERVE_INPUT', {
      input,
      reason: `BOOL element ${bad} is byte ${raw[bad]}; a BOOL must be 0 or 1`,
    });
}

/** A tensor's raw bytes in the same layout (a view where no copy is needed). */
export function encodeRawTensor(tensor: Tensor): Uint8Array {
  if (tensor.datatype !== 'BYTES') return tensor.bytes;
  let total = 0;
  for (const s of tensor.strings) total += 4 + s.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const s of tensor.strings) {
    view.setUint32(offset, s.byteLength, true);
    out.set(s, offset + 4);
    offset += 4 + s.byteLength;
  }
  return out;
}
