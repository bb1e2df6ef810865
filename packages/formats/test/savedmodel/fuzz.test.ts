import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../src/errors.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { decodeSavedModelBytes, looksLikeSavedModel } from '../../src/savedmodel/decode.js';
import { scanMetaGraph } from '../../src/savedmodel/findings.js';
import { decodeCheckpointObjectGraph, variableCheckpointKeys } from '../../src/savedmodel/object-graph.js';
import { opHistogram, signaturesOf } from '../../src/savedmodel/signatures.js';
import { snappyDecompress } from '../../src/savedmodel/snappy.js';
import { decodeBlock, readTable } from '../../src/savedmodel/sstable.js';
import {
  decodeBundleEntry,
  decodeBundleHeader,
  openTensorBundle,
} from '../../src/savedmodel/tensor-bundle.js';
import { tfTensorToBytes } from '../../src/savedmodel/tensor-proto.js';

const FIXTURES = '/work/shared/fixtures/savedmodel';
const MODELS = [
  'saved_model_half_plus_two_cpu/00000123',
  'saved_model_half_plus_two_tf2_cpu/00000123',
  'saved_model_counter/00000123',
  'tfjs-node/module_with_multiple_signatures',
].map((d) => `${FIXTURES}/${d}`);
const pbs = MODELS.map((d) => new Uint8Array(readFileSync(`${d}/saved_model.pb`)));
const indexes = MODELS.map((d) => new Uint8Array(readFileSync(`${d}/variables/variables.index`)));
const work = mkdtempSync(join(tmpdir(), 'ferry-sm-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 1),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = input.slice();
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'flip') bytes[at]! ^= 1 << m.bit;
    else if (m.kind === 'set') bytes[at] = m.value;
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
    else if (m.kind === 'splice')
      bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
    else bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.length)]);
  }
  return bytes;
}

/** Runs `fn`; anything thrown must be a FerryError. */
async function onlyFerryErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!isFerryError(error)) throw error;
  }
}

/** Everything a reader does with a decoded SavedModel. */
function useSavedModel(bytes: Uint8Array): void {
  try {
    looksLikeSavedModel(bytes, 'fuzz.pb');
  } catch (error) {
    if (!isFerryError(error)) throw error;
  }
  const model = decodeSavedModelBytes(bytes, 'fuzz.pb');
  signaturesOf(model.metaGraphs);
  for (const meta of model.metaGraphs) {
    scanMetaGraph(meta, 'fuzz');
    opHistogram(meta);
    if (meta.objectGraph) variableCheckpointKeys(meta.objectGraph);
    for (const node of [...meta.graph.nodes, ...meta.graph.functions.flatMap((f) => f.nodes)]) {
      const value = node.attr.value;
      if (value?.kind === 'tensor') {
        try {
          tfTensorToBytes(value.value);
        } catch (error) {
          if (!isFerryError(error)) throw error;
        }
      }
    }
  }
}

async function useIndex(bytes: Uint8Array): Promise<void> {
  const entries = await readTable(new BufferSource(bytes, 'fuzz.index'));
  if (entries.length === 0) return;
  const header = decodeBundleHeader(entries[0]!.value, 'fuzz.index');
  for (const e of entries.slice(1)) decodeBundleEntry('x', e.value, 'fuzz.index', header.numShards);
}

describe('SavedModel fuzzing: only FerryError comes out', () => {
  it('mutated saved_model.pb files', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(pbs.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (which, ms) => {
          await onlyFerryErrors(() => useSavedModel(mutate(pbs[which]!, ms)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mutated variables.index files', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(indexes.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (which, ms) => {
          await onlyFerryErrors(() => useIndex(mutate(indexes[which]!, ms)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('arbitrary bytes as tables, blocks and snappy streams', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        await onlyFerryErrors(() => useIndex(bytes));
        await onlyFerryErrors(() => decodeBlock(bytes, 'fuzz', 0, 'block'));
        await onlyFerryErrors(() => snappyDecompress(bytes, 1 << 16, 'fuzz', 0));
        await onlyFerryErrors(() => useSavedModel(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('mutated bundles on disk: open, read and verify every variable', async () => {
    const source = `${FIXTURES}/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables`;
    const index = new Uint8Array(readFileSync(`${source}.index`));
    const data = new Uint8Array(readFileSync(`${source}.data-00000-of-00001`));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { maxLength: 3 }),
        fc.array(mutation, { maxLength: 3 }),
        async (indexMs, dataMs) => {
          const prefix = join(work, `v${run++}`);
          writeFileSync(`${prefix}.index`, mutate(index, indexMs));
          writeFileSync(`${prefix}.data-00000-of-00001`, mutate(data, dataMs));
          await onlyFerryErrors(async () => {
            const bundle = await openTensorBundle(prefix);
            try {
              for (const t of bundle.tensors) await onlyFerryErrors(() => readTensorBytes(t));
              for (const o of bundle.opaque) {
                await onlyFerryErrors(async () => {
                  for (const s of await bundle.readStrings(o.name)) decodeCheckpointObjectGraph(s, 'fuzz');
                });
              }
              await bundle.verify();
            } finally {
              await bundle.close();
            }
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a single flipped data bit is always caught by the crc32c', async () => {
    const source = `${FIXTURES}/saved_model_half_plus_two_cpu/00000123/variables/variables`;
    const prefix = join(work, 'flip');
    copyFileSync(`${source}.index`, `${prefix}.index`);
    const data = new Uint8Array(readFileSync(`${source}.data-00000-of-00001`));
    await fc.assert(
      fc.asyncProperty(fc.nat(data.length * 8 - 1), async (bit) => {
        const flipped = data.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        writeFileSync(`${prefix}.data-00000-of-00001`, flipped);
        const bundle = await openTensorBundle(prefix);
        try {
          const error = await bundle.verify().catch((e: unknown) => e);
          expect(isFerryError(error) && error.code).toBe('FERRY_SAVEDMODEL_CHECKSUM');
        } finally {
          await bundle.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
