import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  isFerryError,
  decodeSavedModelBytes,
  openTensorBundle,
  type TensorBundle,
  type TfAttrValue,
  type TfNodeDef,
} from '../../src/formats.js';
import { convertMetaGraph, emitOnnx, prepareGraph } from '../../src/savedmodel-to-onnx/convert.js';
import { attr, constant, F32, I32, node, placeholder, signature } from '../graph.helper.js';
import { CONVERTERS } from '../../src/savedmodel-to-onnx/ops/index.js';
import { isConvertError } from '../../src/errors.js';

const FIXTURES = join(import.meta.dirname, '../../../../../shared/fixtures/savedmodel');
const MODELS = [
  'saved_model_half_plus_two_cpu/00000123',
  'saved_model_half_plus_two_tf2_cpu/00000123',
  'tfjs-node/model_multi_output',
].map((d) => join(FIXTURES, d));

async function onlyFerryErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!isFerryError(error) && !isConvertError(error)) throw error;
  }
}

const bundles: TensorBundle[] = [];
beforeAll(async () => {
  for (const m of MODELS) bundles.push(await openTensorBundle(join(m, 'variables/variables')));
});
afterAll(async () => {
  for (const b of bundles) await b.close();
});

describe('tf2onnx fuzzing: only FerryError comes out', () => {
  it('mutated saved_model.pb files (bit flips, bytes set, truncations) convert or fail cleanly', async () => {
    const pbs = MODELS.map((d) => new Uint8Array(readFileSync(join(d, 'saved_model.pb'))));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(MODELS.length - 1),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
            fc.record({
              kind: fc.constant('set' as const),
              at: fc.nat(),
              value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff),
            }),
            fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), bit: fc.constant(0) }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (which, mutations) => {
          let bytes = pbs[which]!.slice();
          for (const m of mutations) {
            if (bytes.length === 0) break;
            const at = m.at % bytes.length;
            if (m.kind === 'flip') bytes[at]! ^= 1 << m.bit;
            else if (m.kind === 'set') bytes[at] = (m as { value: number }).value;
            else bytes = bytes.slice(0, at);
          }
          await onlyFerryErrors(async () => {
            const model = decodeSavedModelBytes(bytes, 'fuzz.pb');
            for (const meta of model.metaGraphs) {
              for (const sig of meta.signatures) {
                await onlyFerryErrors(() => convertMetaGraph(meta, sig, bundles[which]!, 'fuzz'));
              }
            }
          });
        },
      ),
      { numRuns: 250 },
    );
  });

  it('random graphs of covered ops with random attributes and wiring convert or fail cleanly', () => {
    const ops = [...CONVERTERS.keys()];
    const attrValue: fc.Arbitrary<[string, TfAttrValue]> = fc.oneof(
      fc.tuple(
        fc.constantFrom('T', 'dtype', 'DstT', 'out_type', 'output_type'),
        fc.constantFrom(1, 3, 9, 10, 7, 20, 0, 99).map(attr.type),
      ),
      fc.tuple(
        fc.constantFrom(
          'axis',
          'num',
          'num_split',
          'N',
          'begin_mask',
          'end_mask',
          'ellipsis_mask',
          'new_axis_mask',
          'shrink_axis_mask',
          'batch_dims',
        ),
        fc.integer({ min: -3, max: 5 }).map(attr.int),
      ),
      fc.tuple(
        fc.constantFrom('strides', 'ksize', 'dilations', 'squeeze_dims', 'explicit_paddings'),
        fc.array(fc.integer({ min: -2, max: 3 }), { maxLength: 8 }).map(attr.ints),
      ),
      fc.tuple(
        fc.constantFrom('padding', 'data_format', 'equation', 'mode'),
        fc
          .constantFrom('SAME', 'VALID', 'EXPLICIT', 'NHWC', 'NCHW', 'NCDHW', '', 'ij->ji', 'REFLECT')
          .map(attr.str),
      ),
      fc.tuple(
        fc.constantFrom('keep_dims', 'transpose_a', 'transpose_b', 'adj_x', 'is_training'),
        fc.boolean().map(attr.bool),
      ),
    );
    const graph = fc.array(
      fc.record({
        op: fc.constantFrom(...ops),
        inputs: fc.array(fc.tuple(fc.nat(20), fc.nat(2)), { maxLength: 5 }),
        attrs: fc.array(attrValue, { maxLength: 6 }),
        konst: fc.array(fc.integer({ min: -3, max: 4 }), { maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 12 },
    );
    fc.assert(
      fc.property(graph, (specs) => {
        const nodes: TfNodeDef[] = [placeholder('x', F32)];
        specs.forEach((s, i) => {
          const name = `n${i}`;
          if (s.op === 'Const') {
            nodes.push(constant(name, I32, [s.konst.length], s.konst));
            return;
          }
          const inputs = s.inputs.map(([src, out]) => {
            const j = src % (i + 1);
            return j === 0 ? 'x' : `n${j - 1}:${out}`;
          });
          nodes.push(node(name, s.op, inputs, Object.fromEntries(s.attrs)));
        });
        const sig = signature(
          { x: ['x:0', F32, [1, 2, 2, 1]] },
          { y: [`n${specs.length - 1}:0`, F32, null] },
        );
        try {
          emitOnnx(prepareGraph({ nodes, functions: [], versions: null }, sig, 'fuzz'), new Map());
        } catch (error) {
          if (!isFerryError(error) && !isConvertError(error)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
