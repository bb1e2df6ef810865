import { ferryError } from '../errors.js';
import {
  isScalar,
  type Message,
  type MessageRef,
  type MessageSchema,
  resolveMessage,
  type ScalarType,
  WIRE,
} from './schema.js';

/** Nesting deeper than this is refused: a hostile file could otherwise overflow the stack (CWE-674). */
export const MAX_PROTOBUF_DEPTH = 100;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Where a decode error is reported: the file name. */
export interface DecodeContext {
  readonly path: string;
}

class Cursor {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    start: number,
    readonly end: number,
    readonly ctx: DecodeContext,
    readonly message: string,
  ) {
    this.pos = start;
  }

  fail(reason: string, at = this.pos): never {
    throw ferryError('FERRY_PROTOBUF_WIRE', {
      path: this.ctx.path,
      message: this.message,
      offset: this.bytes.byteOffset + at,
      reason,
    });
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end of the message');
      const byte = this.bytes[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** Fast path for tags and lengths, which fit in 32 bits in any file ferry accepts. */
  smallVarint(what: string): number {
    const value = this.varint();
    if (value > 0x7fffffffn) this.fail(`${what} ${value} is too large`);
    return Number(value);
  }

  take(length: number): number {
    const start = this.pos;
    if (length > this.end - this.pos) this.fail(`field of ${length} bytes runs past the end of the message`);
    this.pos += length;
    return start;
  }
}

export function decodeMessage(
  schema: MessageSchema,
  bytes: Uint8Array,
  ctx: DecodeContext = { path: '<buffer>' },
): Message {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeRange(schema, new Cursor(bytes, view, 0, bytes.byteLength, ctx, schema.name), 0);
}

function decodeRange(schema: MessageSchema, cur: Cursor, depth: number): Message {
  if (depth > MAX_PROTOBUF_DEPTH) cur.fail(`messages nested deeper than ${MAX_PROTOBUF_DEPTH}`);
  const out: Message = {};
  while (cur.pos < cur.end) {
    const fieldStart = cur.pos;
    const tag = cur.smallVarint('tag');
    const number = tag >>> 3;
    const wire = tag & 7;
    if (number === 0) cur.fail('field number 0', fieldStart);
    const spec = schema.fields[number];
    if (!spec) {
      skipField(cur, wire, depth);
      (out.$unknown ??= []).push(cur.bytes.subarray(fieldStart, cur.pos));
      continue;
    }
    if (spec.map) {
      const entry = readLen(cur);
      // A null prototype: a file-supplied key "__proto__" must stay a plain key (CWE-1321).
      const map = (out[spec.name] ??= Object.create(null)) as Record<string, unknown>;
      const { key, value } = decodeMapEntry(spec.map.key, spec.map.value, cur, entry, depth + 1);
      map[String(key)] = value;
      continue;
    }
    const type = spec.type;
    if (isScalar(type)) {
      if (spec.repeated && wire === WIRE.LEN && type !== 'string' && type !== 'bytes') {
        // Packed repeated numbers: one LEN record holding the values back to back.
        const end = readLen(cur);
        const list = (out[spec.name] ??= []) as unknown[];
        const inner = new Cursor(cur.bytes, cur.view, end.start, end.end, cur.ctx, cur.message);
        while (inner.pos < inner.end) list.push(readScalar(inner, type));
        continue;
      }
      checkWire(cur, wire, type, spec.name, fieldStart);
      const value = readScalar(cur, type);
      if (spec.repeated) ((out[spec.name] ??= []) as unknown[]).push(value);
      else out[spec.name] = value;
      continue;
    }
    if (wire !== WIRE.LEN)
      cur.fail(`field ${spec.name} has wire type ${wire}, expected a message`, fieldStart);
    const value = decodeSub(type, cur, readLen(cur), depth);
    if (spec.repeated) ((out[spec.name] ??= []) as unknown[]).push(value);
    else out[spec.name] = value;
  }
  return out;
}

function decodeSub(
  ref: MessageRef,
  cur: Cursor,
  range: { start: number; end: number },
  depth: number,
): Message {
  const schema = resolveMessage(ref);
  const inner = new Cursor(cur.bytes, cur.view, range.start, range.end, cur.ctx, schema.name);
  return decodeRange(schema, inner, depth + 1);
}

function decodeMapEntry(
  keyType: ScalarType,
  valueType: ScalarType | MessageRef,
  cur: Cursor,
  range: { start: number; end: number },
  depth: number,
): { key: unknown; value: unknown } {
  const inner = new Cursor(cur.bytes, cur.view, range.start, range.end, cur.ctx, cur.message);
  let key: unknown = defaultScalar(keyType);
  let value: unknown = isScalar(valueType) ? defaultScalar(valueType) : {};
  while (inner.pos < inner.end) {
    const at = inner.pos;
    const tag = inner.smallVarint('tag');
    const number = tag >>> 3;
    const wire = tag & 7;
    if (number === 1) {
      checkWire(inner, wire, keyType, 'key', at);
      key = readScalar(inner, keyType);
    } else if (number === 2) {
      if (isScalar(valueType)) {
        checkWire(inner, wire, valueType, 'value', at);
        value = readScalar(inner, valueType);
      } else {
        if (wire !== WIRE.LEN) inner.fail(`map value has wire type ${wire}, expected a message`, at);
        value = decodeSub(valueType, inner, readLen(inner), depth);
      }
    } else {
      skipField(inner, wire, depth);
    }
  }
  return { key, value };
}

function defaultScalar(type: ScalarType): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return 0n;
    default:
      return 0;
  }
}

function readLen(cur: Cursor): { start: number; end: number } {
  const length = cur.smallVarint('length');
  const start = cur.take(length);
  return { start, end: start + length };
}

function checkWire(cur: Cursor, wire: number, type: ScalarType, name: string, at: number): void {
  const expected =
    type === 'string' || type === 'bytes'
      ? WIRE.LEN
      : type === 'double' || type === 'fixed64' || type === 'sfixed64'
        ? WIRE.I64
        : type === 'float' || type === 'fixed32' || type === 'sfixed32'
          ? WIRE.I32
          : WIRE.VARINT;
  if (wire !== expected)
    cur.fail(`field ${name} has wire type ${wire}, expected ${expected} for ${type}`, at);
}

function readScalar(cur: Cursor, type: ScalarType): unknown {
  switch (type) {
    case 'int32':
      return Number(BigInt.asIntN(32, cur.varint()));
    case 'enum':
      return Number(BigInt.asIntN(32, cur.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, cur.varint()));
    case 'int64':
      return BigInt.asIntN(64, cur.varint());
    case 'uint64':
      return cur.varint();
    case 'sint32': {
      const n = BigInt.asUintN(32, cur.varint());
      return Number(BigInt.asIntN(32, (n >> 1n) ^ -(n & 1n)));
    }
    case 'sint64': {
      const n = cur.varint();
      return BigInt.asIntN(64, (n >> 1n) ^ -(n & 1n));
    }
    case 'bool':
      return cur.varint() !== 0n;
    case 'float':
      return cur.view.getFloat32(cur.take(4), true);
    case 'double':
      return cur.view.getFloat64(cur.take(8), true);
    case 'fixed32':
      return cur.view.getUint32(cur.take(4), true);
    case 'sfixed32':
      return cur.view.getInt32(cur.take(4), true);
    case 'fixed64':
      return cur.view.getBigUint64(cur.take(8), true);
    case 'sfixed64':
      return cur.view.getBigInt64(cur.take(8), true);
    case 'string': {
      const { start, end } = readLen(cur);
      return utf8.decode(cur.bytes.subarray(start, end));
    }
    case 'bytes': {
      const { start, end } = readLen(cur);
      return cur.bytes.subarray(start, end);
    }
  }
}

function skipField(cur: Cursor, wire: number, depth: number): void {
  switch (wire) {
    case WIRE.VARINT:
      cur.varint();
      return;
    case WIRE.I64:
      cur.take(8);
      return;
    case WIRE.I32:
      cur.take(4);
      return;
    case WIRE.LEN:
      readLen(cur);
      return;
    case WIRE.SGROUP: {
      // Deprecated groups: skip to the matching end-group tag.
      if (depth > MAX_PROTOBUF_DEPTH) cur.fail(`groups nested deeper than ${MAX_PROTOBUF_DEPTH}`);
      for (;;) {
        if (cur.pos >= cur.end) cur.fail('group without an end tag');
        const tag = cur.smallVarint('tag');
        if ((tag & 7) === WIRE.EGROUP) return;
        skipField(cur, tag & 7, depth + 1);
      }
    }
    default:
      cur.fail(`unknown wire type ${wire}`);
  }
}
