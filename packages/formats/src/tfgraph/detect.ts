import { isFerryError } from '../errors.js';
import type { Probe } from '../model.js';
import { decodeMessage } from '../protobuf/decode.js';
import type { Message } from '../protobuf/schema.js';
import * as P from '../savedmodel/protos.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { MAX_DETECT_FIELDS, MAX_DETECT_NODE_BYTES, MAX_DETECT_NODES } from './limits.js';

/**
 * The wire type each GraphDef field must have (tensorflow/core/framework/graph.proto: node 1,
 * library 2, version 3 (deprecated int32), versions 4, debug_info 5): 0 varint, 2 length-delimited.
 * ONNX's ModelProto opens with field 1 as a varint (ir_version) and a SavedModel with field 1 as a
 * varint or field 2 (meta_graphs) without any field 1, so neither passes as a GraphDef.
 */
const GRAPHDEF_WIRE_TYPES: Readonly<Record<number, number>> = { 1: 2, 2: 2, 3: 0, 4: 2, 5: 2 };

/** graph_constructor.cc IsValidNodeName (plus `>`, which function bodies use). */
const NODE_NAME = /^[A-Za-z0-9._][A-Za-z0-9_.\-/>]*$/;
/** Op registrations (op_def_builder.cc) and function names: no spaces, no punctuation beyond these. */
const OP_NAME = /^[A-Za-z_][A-Za-z0-9_.\->]*$/;

/** Bytes read per window while walking field headers: most nodes are small, so one read covers many. */
const WINDOW_BYTES = 64 * 1024;
/** A tag and a length are two varints of at most 10 bytes each. */
const HEADER_BYTES = 20;

/** Reads field headers through a moving window over the source, so walking costs few reads. */
class HeaderReader {
  private start = 0;
  private window: Uint8Array = new Uint8Array(0);
  constructor(private readonly source: ByteSource) {}

  /** The bytes from `pos` (up to HEADER_BYTES, fewer at the end of the file). */
  async at(pos: number): Promise<Uint8Array> {
    const want = Math.min(HEADER_BYTES, this.source.size - pos);
    if (pos < this.start || pos + want > this.start + this.window.length) {
      this.start = pos;
      this.window = await this.source.read(pos, Math.min(WINDOW_BYTES, this.source.size - pos));
    }
    return this.window.subarray(pos - this.start, pos - this.start + want);
  }
}

/** A varint from `bytes` at `at`: [value, bytes used], or undefined when cut or over 10 bytes. */
function varint(bytes: Uint8Array, at: number): [bigint, number] | undefined {
  let result = 0n;
  for (let i = 0; i < 10 && at + i < bytes.length; i++) {
    const byte = bytes[at + i]!;
    result |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [result, i + 1];
  }
  return undefined;
}

/**
 * Whether a file is a serialized tensorflow.GraphDef (a frozen graph, tf2onnx's input): every
 * top-level field is a GraphDef field with its wire type and a length that fits the file, the
 * fields end exactly at the end of the file, there is at least one node, and the first nodes
 * decode as NodeDefs with a node name and an op name of TensorFlow's form. No magic number
 * exists, so the structure is the evidence; a GraphDef is never taken from its extension.
 */
export async function looksLikeGraphDef(probe: Probe): Promise<boolean> {
  if (probe.isDirectory || !probe.source || probe.size < 2) return false;
  const source = probe.source;
  const reader = new HeaderReader(source);
  const firstNodes: { offset: number; length: number }[] = [];
  let nodes = 0;
  let pos = 0;
  for (let fields = 0; pos < source.size && fields < MAX_DETECT_FIELDS; fields++) {
    const head = await reader.at(pos);
    const tag = varint(head, 0);
    if (!tag) return false;
    const field = Number(tag[0] >> 3n);
    const wire = Number(tag[0] & 7n);
    if (GRAPHDEF_WIRE_TYPES[field] !== wire) return false;
    const value = varint(head, tag[1]);
    if (!value) return false;
    const payload = pos + tag[1] + value[1];
    if (wire === 0) {
      pos = payload;
      continue;
    }
    if (value[0] > BigInt(source.size - payload)) return false;
    const length = Number(value[0]);
    if (field === 1) {
      nodes++;
      if (firstNodes.length < MAX_DETECT_NODES && length <= MAX_DETECT_NODE_BYTES)
        firstNodes.push({ offset: payload, length });
    }
    pos = payload + length;
  }
  if (pos > source.size || nodes === 0 || firstNodes.length === 0) return false;
  for (const { offset, length } of firstNodes) {
    let node: Message;
    try {
      node = decodeMessage(P.NodeDef, await source.read(offset, length), { path: probe.path });
    } catch (error) {
      if (isFerryError(error)) return false;
      throw error;
    }
    if (typeof node.name !== 'string' || !NODE_NAME.test(node.name)) return false;
    if (typeof node.op !== 'string' || !OP_NAME.test(node.op)) return false;
  }
  return true;
}
