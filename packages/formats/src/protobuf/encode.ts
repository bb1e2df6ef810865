import {
  isScalar,
  type Message,
  type MessageRef,
  type MessageSchema,
  resolveMessage,
  type ScalarType,
  WIRE,
  wireTypeOf,
} from './schema.js';

const utf8 = new TextEncoder();

/**
 * Encodes a message as a list of chunks whose concatenation is the wire form. `bytes` values are
 * passed through as chunks, not copied, so a writer can stream a model's tensor data straight
 * to disk. Fields go out in field-number order, then the unknown fields kept from decoding.
 */
export function encodeChunks(
  schema: MessageSchema,
  message: Message,
): { chunks: Uint8Array[]; length: number } {
  const out = new ChunkWriter();
  writeMessage(out, schema, message);
  return { chunks: out.finish(), length: out.length };
}

export function encodeMessage(schema: MessageSchema, message: Message): Uint8Array {
  const { chunks, length } = encodeChunks(schema, message);
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

class ChunkWriter {
  private chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(4096);
  private used = 0;
  length = 0;

  private room(n: number): void {
    if (this.used + n > this.scratch.length) {
      this.flush();
      if (n > this.scratch.length) this.scratch = new Uint8Array(n);
    }
  }
  private flush(): void {
    if (this.used > 0) {
      this.chunks.push(this.scratch.slice(0, this.used));
      this.used = 0;
    }
  }
  byte(b: number): void {
    this.room(1);
    this.scratch[this.used++] = b;
    this.length++;
  }
  varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.room(10);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      this.scratch[this.used++] = b;
      this.length++;
    } while (v !== 0n);
  }
  smallVarint(value: number): void {
    if (value < 0x80) this.byte(value);
    else this.varint(BigInt(value));
  }
  fixed(width: 4 | 8, set: (view: DataView) => void): void {
    this.room(width);
    set(new DataView(this.scratch.buffer, this.used, width));
    this.used += width;
    this.length += width;
  }
  raw(bytes: Uint8Array): void {
    if (bytes.length <= 256) {
      this.room(bytes.length);
      this.scratch.set(bytes, this.used);
      this.used += bytes.length;
    } else {
      this.flush();
      this.chunks.push(bytes);
    }
    this.length += bytes.length;
  }
  /** Appends another writer's output (a nested message) without copying its big chunks. */
  append(other: ChunkWriter): void {
    for (const chunk of other.finish()) this.raw(chunk);
  }
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

function tag(out: ChunkWriter, number: number, wire: number): void {
  out.smallVarint(number * 8 + wire);
}

function writeMessage(out: ChunkWriter, schema: MessageSchema, message: Message): void {
  const numbers = Object.keys(schema.fields)
    .map(Number)
    .sort((a, b) => a - b);
  for (const number of numbers) {
    const spec = schema.fields[number]!;
    const value = message[spec.name];
    if (value === undefined || value === null) continue;
    if (spec.map) {
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
        const inner = new ChunkWriter();
        writeField(inner, 1, spec.map.key, parseMapKey(spec.map.key, key));
        writeField(inner, 2, spec.map.value, entry);
        tag(out, number, WIRE.LEN);
        out.smallVarint(inner.length);
        out.append(inner);
      }
      continue;
    }
    if (spec.repeated) {
      const list = value as unknown[];
      if (spec.packed && isScalar(spec.type) && wireTypeOf(spec.type) !== WIRE.LEN) {
        if (list.length === 0) continue;
        const inner = new ChunkWriter();
        for (const item of list) writeScalar(inner, spec.type, item);
        tag(out, number, WIRE.LEN);
        out.smallVarint(inner.length);
        out.append(inner);
      } else {
        for (const item of list) writeField(out, number, spec.type, item);
      }
      continue;
    }
    writeField(out, number, spec.type, value);
  }
  for (const unknown of message.$unknown ?? []) out.raw(unknown);
}

function parseMapKey(type: ScalarType, key: string): unknown {
  if (type === 'string') return key;
  if (type === 'bool') return key === 'true';
  if (/64$/.test(type)) return BigInt(key);
  return Number(key);
}

function writeField(out: ChunkWriter, number: number, type: ScalarType | MessageRef, value: unknown): void {
  if (isScalar(type)) {
    tag(out, number, wireTypeOf(type));
    writeScalar(out, type, value);
    return;
  }
  const inner = new ChunkWriter();
  writeMessage(inner, resolveMessage(type), value as Message);
  tag(out, number, WIRE.LEN);
  out.smallVarint(inner.length);
  out.append(inner);
}

function writeScalar(out: ChunkWriter, type: ScalarType, value: unknown): void {
  switch (type) {
    case 'int32':
    case 'enum':
    case 'uint32':
    case 'int64':
    case 'uint64':
      out.varint(BigInt(value as number | bigint));
      return;
    case 'sint32':
    case 'sint64': {
      const n = BigInt(value as number | bigint);
      out.varint((n << 1n) ^ (n < 0n ? -1n : 0n));
      return;
    }
    case 'bool':
      out.byte(value ? 1 : 0);
      return;
    case 'float':
      out.fixed(4, (v) => v.setFloat32(0, value as number, true));
      return;
    case 'double':
      out.fixed(8, (v) => v.setFloat64(0, value as number, true));
      return;
    case 'fixed32':
      out.fixed(4, (v) => v.setUint32(0, value as number, true));
      return;
    case 'sfixed32':
      out.fixed(4, (v) => v.setInt32(0, value as number, true));
      return;
    case 'fixed64':
      out.fixed(8, (v) => v.setBigUint64(0, BigInt(value as bigint), true));
      return;
    case 'sfixed64':
      out.fixed(8, (v) => v.setBigInt64(0, BigInt(value as bigint), true));
      return;
    case 'string': {
      const bytes = utf8.encode(value as string);
      out.smallVarint(bytes.length);
      out.raw(bytes);
      return;
    }
    case 'bytes': {
      const bytes = value as Uint8Array;
      out.smallVarint(bytes.length);
      out.raw(bytes);
      return;
    }
  }
}
