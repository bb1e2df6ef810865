/**
 * Builds GGUF bytes by the spec (ggml docs/gguf.md) for tests that need headers no real writer
 * would produce (hostile counts, deep nesting). Real files come from fixtures/gguf (gguf-py).
 */
export class GgufBuilder {
  private parts: number[] = [];
  constructor(private readonly little = true) {}

  u32(value: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, value, this.little);
    this.parts.push(...new Uint8Array(b.buffer));
    return this;
  }
  u64(value: bigint | number): this {
    const b = new DataView(new ArrayBuffer(8));
    b.setBigUint64(0, BigInt(value), this.little);
    this.parts.push(...new Uint8Array(b.buffer));
    return this;
  }
  bytes(values: ArrayLike<number>): this {
    this.parts.push(...Array.from(values));
    return this;
  }
  string(text: string): this {
    const encoded = new TextEncoder().encode(text);
    return this.u64(encoded.length).bytes(encoded);
  }
  header(version: number, tensors: number | bigint, kvs: number | bigint): this {
    return this.bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensors).u64(kvs);
  }
  pad(alignment: number): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }
  build(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}
