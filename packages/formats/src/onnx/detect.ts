import type { Probe } from '../model.js';

/** ModelProto fields and their wire types (onnx.proto): 0 = varint, 2 = length-delimited. */
const MODEL_FIELDS: Readonly<Record<number, number>> = {
  1: 0,
  2: 2,
  3: 2,
  4: 2,
  5: 0,
  6: 2,
  7: 2,
  8: 2,
  14: 2,
  20: 2,
  25: 2,
};

/** IR versions 1..10 exist (onnx.proto Version); anything far above is not an ONNX file. */
const MAX_PLAUSIBLE_IR_VERSION = 64n;

/**
 * Recognises a serialized ModelProto from its first bytes: every field in the head must be a
 * ModelProto field with its wire type, lengths must fit the file, ir_version must be plausible,
 * and a graph or opset_import must start. Writers serialize in field-number order, so a real
 * model shows ir_version, the producer strings and the graph within the first bytes.
 */
export function looksLikeOnnx(probe: Probe): boolean {
  if (probe.isDirectory || probe.head.length < 2) return false;
  const head = probe.head;
  let pos = 0;
  let irVersion: bigint | undefined;
  let structure = false;
  const varint = (): bigint | undefined => {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= head.length) return undefined;
      const byte = head[pos++]!;
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    return undefined;
  };
  while (pos < head.length) {
    const tag = varint();
    if (tag === undefined) break; // cut by the head's end
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (MODEL_FIELDS[number] !== wire) return false;
    const value = varint();
    if (value === undefined) break;
    if (number === 1) {
      if (value < 1n || value > MAX_PLAUSIBLE_IR_VERSION) return false;
      irVersion = value;
      continue;
    }
    if (wire !== 2) continue;
    if (value > BigInt(probe.size - pos)) return false;
    if (number === 7 || number === 8) structure = true;
    pos += Number(value);
  }
  return irVersion !== undefined && structure;
}
