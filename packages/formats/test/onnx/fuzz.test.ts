import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import type { Probe } from '../../src/model.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { checkModel } from '../../src/onnx/check.js';
import { decodeModel, encodeModel } from '../../src/onnx/codec.js';
import { looksLikeOnnx } from '../../src/onnx/detect.js';
import { onnxHandler } from '../../src/onnx/handler.js';

const FIXTURES = new URL('../../../../fixtures/onnx/', import.meta.url).pathname;
const TESTDATA = '/usr/share/libonnx-testdata/data/node';
const seeds: Uint8Array[] = [
  'mlp.onnx',
  'cnn.onnx',
  'cnn_external.onnx',
  'typed.onnx',
  'mlp_metadata.onnx',
].map((f) => readFileSync(join(FIXTURES, f)));
// A few backend-test models with subgraphs and odd types, when Debian's test data is installed.
for (const name of [
  'test_if_seq',
  'test_loop13_seq',
  'test_sequence_map_add_2_sequences',
  'test_scan9_sum',
  'test_optional_get_element_sequence',
]) {
  try {
    seeds.push(readFileSync(join(TESTDATA, name, 'model.onnx')));
  } catch {
    // not installed: the fixtures above still run
  }
}

// Mutated models live beside a copy of the real external data file, so external paths are exercised.
const dir = mkdtempSync(join(tmpdir(), 'ferry-onnx-fuzz-'));
copyFileSync(join(FIXTURES, 'cnn_external.onnx.data'), join(dir, 'cnn_external.onnx.data'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
const outcomes = { opened: 0, refused: 0 };
/** Everything ferry does with an untrusted .onnx: detect, open (tensors, external data), read, check, re-encode. */
async function everything(bytes: Uint8Array): Promise<void> {
  const path = join(dir, `m${counter++ % 4}.onnx`);
  writeFileSync(path, bytes);
  const probe: Probe = {
    path,
    isDirectory: false,
    size: bytes.length,
    head: bytes.subarray(0, 4096),
    entries: [],
    source: null,
  };
  looksLikeOnnx(probe);
  try {
    const model = await onnxHandler.open(path, {});
    for (const ref of model.tensors) await readTensorBytes(ref);
    const decoded = decodeModel(bytes, path);
    checkModel(decoded);
    decodeModel(encodeModel(decoded), path);
    outcomes.opened++;
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    outcomes.refused++;
  }
}

const seed = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i]!);

const mutation = fc.oneof(
  // bit flips
  fc
    .tuple(seed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }))
    .map(([s, flips]) => {
      const out = new Uint8Array(s);
      for (const [at, bit] of flips) out[at % out.length]! ^= 1 << bit;
      return out;
    }),
  // byte overwrites with protobuf-significant values (tags, long varints, huge lengths)
  fc
    .tuple(seed, fc.nat(), fc.constantFrom(0x00, 0x08, 0x0a, 0x12, 0x3a, 0x42, 0x7f, 0x80, 0xff))
    .map(([s, at, b]) => {
      const out = new Uint8Array(s);
      out[at % out.length] = b;
      return out;
    }),
  // truncations
  fc.tuple(seed, fc.nat()).map(([s, n]) => s.subarray(0, n % s.length)),
  // splices of two models
  fc.tuple(seed, seed, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    const out = new Uint8Array(a.length);
    out.set(a.subarray(0, i % a.length));
    out.set(b.subarray(j % b.length, (j % b.length) + (a.length - (i % a.length))), i % a.length);
    return out;
  }),
  // insertions of random bytes
  fc.tuple(seed, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([s, at, bytes]) => {
    const cut = at % s.length;
    return Uint8Array.from([...s.subarray(0, cut), ...bytes, ...s.subarray(cut)]);
  }),
);

describe('ONNX decoder fuzz: only FerryError comes out, and it ends', () => {
  it('mutations of real models', async () => {
    await fc.assert(fc.asyncProperty(mutation, everything), { numRuns: 400 });
    // Both paths were exercised: some mutants still open, others are refused with a FerryError.
    expect(outcomes.opened).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('random byte streams, with and without a plausible ModelProto prefix', async () => {
    const prefix = fc.constantFrom(
      new Uint8Array(0),
      Uint8Array.from([0x08, 0x08, 0x3a]),
      Uint8Array.from([0x08, 0x07, 0x12, 0x03, 0x61, 0x62, 0x63, 0x3a]),
    );
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 512 }), async (p, body) =>
        everything(Uint8Array.from([...p, ...body])),
      ),
      { numRuns: 300 },
    );
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });
});
