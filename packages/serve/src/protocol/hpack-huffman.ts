/**
 * HPACK's Huffman code (RFC 7541 section 5.2, Appendix B), decoding only: node's HTTP/2 server
 * (nghttp2) Huffman-codes a header string whenever that is shorter, so the load generator's client
 * must read it. The code is canonical (codes of one length are consecutive, in symbol order, and
 * each length starts where the shorter ones left off), so the table is kept as its 257 code lengths
 * and the codes are derived from them; the test checks the derived codes against Appendix B's.
 */

/** Code length in bits of each symbol 0..255 and EOS (256), RFC 7541 Appendix B. */
// biome-ignore format: sixteen symbols a line, as Appendix B counts them
const CODE_BITS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
] as const;

const EOS = 256;

/** Each symbol's code, right-aligned, assigned canonically from CODE_BITS. */
export const HUFFMAN_CODES: readonly { readonly code: number; readonly bits: number }[] = (() => {
  const order = CODE_BITS.map((bits, symbol) => ({ bits, symbol })).sort(
    (a, b) => a.bits - b.bits || a.symbol - b.symbol,
  );
  const codes: { code: number; bits: number }[] = [];
  let code = 0;
  let bits = order[0]!.bits;
  for (const [i, entry] of order.entries()) {
    if (i > 0) code = (code + 1) * 2 ** (entry.bits - bits);
    bits = entry.bits;
    codes[entry.symbol] = { code, bits };
  }
  return codes;
})();

/**
 * The decoding tree: node n's children at [2n] (bit 0) and [2n + 1] (bit 1); a child > 0 is an
 * inner node, a child < 0 the leaf of symbol -child - 1. Node 0 is the root (never a child).
 */
const TREE = (() => {
  const tree = new Int32Array(2 * 256); // a full prefix code of 257 leaves has 256 inner nodes
  let nodes = 1;
  for (const [symbol, { code, bits }] of HUFFMAN_CODES.entries()) {
    let node = 0;
    for (let bit = bits - 1; bit > 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) & 1);
      if (tree[slot] === 0) tree[slot] = nodes++;
      node = tree[slot]!;
    }
    tree[2 * node + (code & 1)] = -symbol - 1;
  }
  return tree;
})();

/** Decodes a Huffman-coded string (latin1, one char per octet); throws on a malformed one. */
export function huffmanDecode(bytes: Uint8Array): string {
  const out = Buffer.allocUnsafe(Math.ceil((bytes.length * 8) / 5)); // codes are 5 bits at least
  let length = 0;
  let node = 0;
  let pendingBits = 0; // bits read since the last whole symbol
  let pendingOnes = true; // ... and whether they were all 1s
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      const next = TREE[2 * node + one]!;
      pendingBits++;
      pendingOnes &&= one === 1;
      if (next > 0) {
        node = next;
        continue;
      }
      const symbol = -next - 1;
      // RFC 7541 5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding error"
      if (symbol === EOS) throw new Error('HPACK Huffman string contains EOS');
      out[length++] = symbol;
      node = 0;
      pendingBits = 0;
      pendingOnes = true;
    }
  }
  // RFC 7541 5.2: padding is at most 7 bits, the most significant bits of EOS (all 1s)
  if (pendingBits > 7) throw new Error(`HPACK Huffman padding of ${pendingBits} bits (at most 7)`);
  if (!pendingOnes) throw new Error('HPACK Huffman padding is not the EOS prefix (all 1 bits)');
  return out.toString('latin1', 0, length);
}
