/*
 * ModelInferRequest and ModelInferResponse (proto/open_inference_grpc.proto) read and written by
 * hand for the shape nearly every call has: names, shapes and raw_input_contents in, names, shapes
 * and raw_output_contents out. protobufjs's generic reader builds a map object per message and per
 * tensor and copies each string through its UTF-8 decoder; on the mid benchmark MLP that, with
 * grpc-js around it, was a third of the event loop's CPU per call (BENCHMARKS.md, serve-pinned).
 * Anything else (parameters, typed contents, non-ASCII names, unknown fields, negative or huge
 * numbers) makes these answer undefined, and the caller uses protobufjs exactly as grpc-js does.
 */
import type { InferInputTensor, InferRequestMessage, InferResponseMessage } from './grpc-infer.js';

/** Protobuf wire types (encoding.md "Message Structure"). */
const VARINT = 0;
const LEN = 2;
/** Field tags of the response: (field number << 3) | wire type. */
const TAG = { name: 0x0a, version: 0x12, id: 0x1a, outputs: 0x2a, raw: 0x32 } as const;
const OUTPUT_TAG = { name: 0x0a, datatype: 0x12, shape: 0x1a } as const;

/** A cursor over one message; `varint()` answers -1 where a value is not a safe non-negative integer. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}

  /**
   * A varint of at most `bytes` bytes (8 hold 56 bits: every value below 2^53 fits, a longer
   * varint is negative or too big), at most `max`; else -1.
   */
  varint(end: number, bytes = 8, max = Number.MAX_SAFE_INTEGER): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < bytes && this.pos < end; i++) {
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value <= max ? value : -1;
      scale *= 128;
    }
    return -1;
  }

  /** A tag or a length: uint32, as protobufjs reads them (it truncates longer varints; this refuses them). */
  uint32(end: number): number {
    return this.varint(end, 5, 0xffffffff);
  }

  /** A length-delimited field's end, or -1 where its length runs past `end`. */
  span(end: number): number {
    const length = this.uint32(end);
    return length < 0 || length > end - this.pos ? -1 : this.pos + length;
  }

  /** The bytes up to `end` as a string when they are all ASCII (where latin1 and UTF-8 agree). */
  ascii(end: number): string | undefined {
    const buf = this.buf;
    for (let i = this.pos; i < end; i++) if (buf[i]! >= 0x80) return undefined;
    const text = buf.toString('latin1', this.pos, end);
    this.pos = end;
    return text;
  }
}

/** The ModelInferRequest in `message` as proto-loader would give it, or undefined where it is unusual. */
export function decodeInferRequest(message: Buffer): InferRequestMessage | undefined {
  const r = new Reader(message, 0);
  const end = message.byteLength;
  const request: InferRequestMessage = {
    model_name: '',
    model_version: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    raw_input_contents: [],
  };
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag < 0 || tag % 8 !== LEN) return undefined;
    const fieldEnd = r.span(end);
    if (fieldEnd < 0) return undefined;
    switch (tag >>> 3) {
      case 1: {
        const text = r.ascii(fieldEnd);
        if (text === undefined) return undefined;
        request.model_name = text;
        break;
      }
      case 2: {
        const text = r.ascii(fieldEnd);
        if (text === undefined) return undefined;
        request.model_version = text;
        break;
      }
      case 3: {
        const text = r.ascii(fieldEnd);
        if (text === undefined) return undefined;
        request.id = text;
        break;
      }
      case 5: {
        const input = readInput(r, fieldEnd);
        if (!input) return undefined;
        request.inputs.push(input);
        break;
      }
      case 6: {
        const name = readOutputName(r, fieldEnd);
        if (name === undefined) return undefined;
        request.outputs.push({ name, parameters: {} });
        break;
      }
      case 7:
        // a view into the message, which lives until the call is answered
        request.raw_input_contents.push(message.subarray(r.pos, fieldEnd));
        r.pos = fieldEnd;
        break;
      default:
        return undefined; // parameters (4) and unknown fields
    }
  }
  return request;
}

/** InferInputTensor with name, datatype and shape only (no parameters, no typed contents). */
function readInput(r: Reader, end: number): InferInputTensor | undefined {
  const input: InferInputTensor = { name: '', datatype: '', shape: [], parameters: {}, contents: null };
  const shape: number[] = [];
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === (3 << 3) + VARINT) {
      // an unpacked shape entry (a proto2-style writer); parsers must accept both forms
      const dim = r.varint(end);
      if (dim < 0) return undefined;
      shape.push(dim);
      continue;
    }
    if (tag < 0 || tag % 8 !== LEN) return undefined;
    const fieldEnd = r.span(end);
    if (fieldEnd < 0) return undefined;
    const field = tag >>> 3;
    if (field === 1 || field === 2) {
      const text = r.ascii(fieldEnd);
      if (text === undefined) return undefined;
      if (field === 1) input.name = text;
      else input.datatype = text;
    } else if (field === 3) {
      while (r.pos < fieldEnd) {
        const dim = r.varint(fieldEnd);
        if (dim < 0) return undefined;
        shape.push(dim);
      }
    } else return undefined; // parameters (4), contents (5), unknown fields
  }
  input.shape = shape;
  return input;
}

/** InferRequestedOutputTensor with a name only. */
function readOutputName(r: Reader, end: number): string | undefined {
  let name = '';
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag !== (1 << 3) + LEN) return undefined; // parameters (2) and unknown fields
    const fieldEnd = r.span(end);
    if (fieldEnd < 0) return undefined;
    const text = r.ascii(fieldEnd);
    if (text === undefined) return undefined;
    name = text;
  }
  return name;
}

/**
 * Answers are carved from shared slabs, as Buffer.allocUnsafe does below 4 KiB: an answer of one
 * 1024-float row is just over that, and a fresh ArrayBuffer per answer (external memory V8 must
 * account for and free) costs twice a slab's share (0.5 against 1.0 µs per answer, measured).
 * A slab is freed once every answer carved from it has been written and dropped. 64 KiB stays
 * below malloc's mmap threshold (128 KiB), so freed slabs are reused without fresh page faults,
 * and one slow client pins at most that much.
 */
const SLAB_BYTES = 64 * 1024;
const MAX_SLAB_PART = SLAB_BYTES / 4;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

function frameBuffer(size: number): Buffer {
  if (size > MAX_SLAB_PART) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const part = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned, as Buffer's own pool keeps its slices
  return part;
}

const varintSize = (n: number): number => {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

/** Bytes of a length-delimited field with a one-byte tag. */
const fieldSize = (length: number): number => 1 + varintSize(length) + length;

/** UTF-8 length of a string: its length when it is ASCII (names nearly always are), else Buffer's count. */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text);
  return text.length;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** A string field: tag, length, UTF-8 bytes (copied a char at a time when ASCII, cheaper than a native call for a short name). */
function writeText(out: Buffer, pos: number, tag: number, text: string): number {
  const length = utf8Length(text);
  out[pos++] = tag;
  pos = writeVarint(out, pos, length);
  if (length === text.length) for (let i = 0; i < length; i++) out[pos++] = text.charCodeAt(i);
  else pos += out.write(text, pos, length, 'utf8');
  return pos;
}

/**
 * `response` as a gRPC message frame (flag 0, 4-byte big-endian length, the message), byte for
 * byte what protobufjs writes for it, in one buffer: raw_output_contents are copied once, straight
 * into it. Undefined where a shape is not a safe non-negative integer (protobufjs writes those).
 */
export function encodeInferResponse(response: InferResponseMessage): Buffer | undefined {
  const { outputs, raw_output_contents: raws } = response;
  let total =
    fieldSize(utf8Length(response.model_name)) +
    fieldSize(utf8Length(response.model_version)) +
    fieldSize(utf8Length(response.id));
  // each output's size twice (measured, then written) rather than an array per answer
  for (const output of outputs) {
    const size = outputSize(output);
    if (size < 0) return undefined;
    total += fieldSize(size);
  }
  for (const raw of raws) total += fieldSize(raw.byteLength);
  const out = frameBuffer(5 + total);
  out[0] = 0;
  out.writeUInt32BE(total, 1);
  let pos = writeText(out, 5, TAG.name, response.model_name);
  pos = writeText(out, pos, TAG.version, response.model_version);
  pos = writeText(out, pos, TAG.id, response.id);
  for (const output of outputs) {
    out[pos++] = TAG.outputs;
    pos = writeVarint(out, pos, outputSize(output));
    pos = writeText(out, pos, OUTPUT_TAG.name, output.name);
    pos = writeText(out, pos, OUTPUT_TAG.datatype, output.datatype);
    const shapeSize = packedSize(output.shape);
    if (shapeSize > 0) {
      out[pos++] = OUTPUT_TAG.shape;
      pos = writeVarint(out, pos, shapeSize);
      for (const dim of output.shape) pos = writeVarint(out, pos, dim);
    }
  }
  for (const raw of raws) {
    out[pos++] = TAG.raw;
    pos = writeVarint(out, pos, raw.byteLength);
    out.set(raw, pos);
    pos += raw.byteLength;
  }
  return out;
}

/** Bytes of a packed int64 shape; -1 where a dimension is not a safe non-negative integer. */
function packedSize(shape: readonly number[]): number {
  let size = 0;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return -1;
    size += varintSize(dim);
  }
  return size;
}

/** Bytes of an InferOutputTensor (name, datatype, packed shape; no parameters or contents), or -1. */
function outputSize(output: InferResponseMessage['outputs'][number]): number {
  const shapeSize = packedSize(output.shape);
  if (shapeSize < 0) return -1;
  return (
    fieldSize(utf8Length(output.name)) +
    fieldSize(utf8Length(output.datatype)) +
    (shapeSize > 0 ? fieldSize(shapeSize) : 0)
  );
}
