import { readFileSync } from 'node:fs';
import { buildZip, PAYLOAD } from '../../../scripts/test/zip-builder.js';

/**
 * Polyglots built from real files (#16.2): every pair of formats that can share one file. Each
 * construction was checked against the real loaders with a benign pickle in place of PAYLOAD
 * (fixtures/make/polyglot_check.py): pickle.loads, torch.load, zipfile, numpy.load, onnx.load +
 * onnx.checker, safetensors.numpy.load_file and gguf.GGUFReader all read their part.
 *
 * Pairs that cannot share a file, because their first bytes conflict: npy + pickle (0x93 is
 * MEMOIZE, refused on an empty stack), zip-at-0 + pickle (PK is BINPERSID on an empty stack),
 * GGUF + pickle and safetensors + pickle (the magic / header length bytes run into 0x00, no
 * opcode), ONNX + npy/GGUF/safetensors (their first byte is no valid protobuf tag).
 */
const fixture = (path: string) => readFileSync(new URL(`../../../fixtures/${path}`, import.meta.url));

/** A torch-style zip whose data.pkl is the payload: what torch.load or a zipfile-based loader would run. */
export function payloadZip(): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: PAYLOAD },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** A protobuf field the ONNX schema does not have (ModelProto field 9, length-delimited): skipped by onnx.load. */
function unknownField(content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x4a]), varint(content.length), content]);
}

/**
 * A safetensors file whose last tensor (U8) is `tail`: header and the other tensors stay valid,
 * and `tail` ends the file (where zip readers look for the end record).
 */
function safetensorsWithTail(original: Buffer, tail: Uint8Array): Buffer {
  const headerLength = Number(original.readBigUInt64LE(0));
  const header = JSON.parse(original.subarray(8, 8 + headerLength).toString('utf8'));
  const data = original.subarray(8 + headerLength);
  header.zz_tail = {
    dtype: 'U8',
    shape: [tail.length],
    data_offsets: [data.length, data.length + tail.length],
  };
  const json = Buffer.from(JSON.stringify(header));
  const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([length, padded, data, tail]);
}

export interface Polyglot {
  readonly name: string;
  /** The formats whose loaders each read a valid file. */
  readonly formats: readonly string[];
  readonly bytes: Buffer;
}

export function polyglotCorpus(): Polyglot[] {
  const zip = payloadZip();
  const torch = fixture('pickle/torch/state_dict.pt');
  const onnx = fixture('onnx/mlp.onnx');
  const npy = fixture('numpy/float32.npy');
  const gguf = fixture('gguf/tiny-v3-le.gguf');
  const safetensors = fixture('safetensors/small.safetensors');
  // BINBYTES wrapping the zip, POP, then the payload: pickle.load skips over the zip as a bytes
  // value and runs what follows; the zip's end record stays in the tail.
  const binbytes = Buffer.alloc(5);
  binbytes[0] = 0x42;
  binbytes.writeUInt32LE(torch.length, 1);
  // BININT 'J' is also ModelProto's unknown field 9 (tag 0x4a, length-delimited): its 4-byte
  // argument is the field's length byte plus 3 bytes of content; the pickle goes on inside the
  // field (POP, the payload, STOP) and stops; onnx.load skips the field and reads the model.
  const inField = Buffer.concat([Buffer.from([0, 0, 0, 0x30]), PAYLOAD]);
  return [
    { name: 'pickle-then-zip', formats: ['pickle', 'zip'], bytes: Buffer.concat([PAYLOAD, torch]) },
    {
      name: 'pickle-wrapping-zip',
      formats: ['pickle', 'zip'],
      bytes: Buffer.concat([
        Buffer.from([0x80, 0x02]),
        binbytes,
        torch,
        Buffer.from([0x30]),
        PAYLOAD.subarray(2),
      ]),
    },
    {
      name: 'benign-pickle-then-payload-zip',
      formats: ['pickle', 'zip'],
      bytes: Buffer.concat([Buffer.from([0x80, 0x02, 0x4b, 0x03, 0x2e]), zip]),
    },
    { name: 'onnx-with-zip', formats: ['onnx', 'zip'], bytes: Buffer.concat([onnx, unknownField(zip)]) },
    {
      name: 'pickle-in-onnx',
      formats: ['pickle', 'onnx'],
      bytes: Buffer.concat([Buffer.from([0x4a]), varint(inField.length), inField, onnx]),
    },
    { name: 'npy-then-zip', formats: ['npy', 'zip'], bytes: Buffer.concat([npy, zip]) },
    {
      name: 'safetensors-with-zip',
      formats: ['safetensors', 'zip'],
      bytes: safetensorsWithTail(safetensors, zip),
    },
    { name: 'gguf-then-zip', formats: ['gguf', 'zip'], bytes: Buffer.concat([gguf, zip]) },
  ];
}
