/** xxHash32 (Yann Collet's spec, xxhash_spec.md): LZ4 frames' header, block and content checks. */
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);

function lane(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** Incremental xxHash32 with seed 0, for a frame's content checksum over its streamed output. */
export class XxHash32 {
  private v1 = (P1 + P2) | 0;
  private v2 = P2;
  private v3 = 0;
  private v4 = -P1 | 0;
  private total = 0;
  private readonly tail = new Uint8Array(16);
  private tailLength = 0;

  update(b: Uint8Array): void {
    let i = 0;
    this.total += b.length;
    if (this.tailLength > 0) {
      const n = Math.min(16 - this.tailLength, b.length);
      this.tail.set(b.subarray(0, n), this.tailLength);
      this.tailLength += n;
      i = n;
      if (this.tailLength < 16) return;
      this.stripe(this.tail, 0);
      this.tailLength = 0;
    }
    for (; i + 16 <= b.length; i += 16) this.stripe(b, i);
    this.tail.set(b.subarray(i), 0);
    this.tailLength = b.length - i;
  }

  private stripe(b: Uint8Array, i: number): void {
    this.v1 = round(this.v1, lane(b, i));
    this.v2 = round(this.v2, lane(b, i + 4));
    this.v3 = round(this.v3, lane(b, i + 8));
    this.v4 = round(this.v4, lane(b, i + 12));
  }

  digest(): number {
    let h =
      this.total >= 16
        ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0
        : (this.v3 + P5) | 0;
    h = (h + this.total) | 0;
    const t = this.tail;
    let i = 0;
    for (; i + 4 <= this.tailLength; i += 4) h = Math.imul(rotl((h + Math.imul(lane(t, i), P3)) | 0, 17), P4);
    for (; i < this.tailLength; i++) h = Math.imul(rotl((h + Math.imul(t[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

export function xxhash32(b: Uint8Array): number {
  const h = new XxHash32();
  h.update(b);
  return h.digest();
}
