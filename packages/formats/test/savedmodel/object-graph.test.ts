import { describe, expect, it } from 'vitest';
import { readSavedModel } from '../../src/savedmodel/handler.js';
import {
  decodeCheckpointObjectGraph,
  escapeLocalName,
  OBJECT_GRAPH_KEY,
  variableCheckpointKeys,
} from '../../src/savedmodel/object-graph.js';
import { openTensorBundle } from '../../src/savedmodel/tensor-bundle.js';

const FIXTURES = '/work/shared/fixtures/savedmodel';
const TF2_MODELS = [
  'saved_model_half_plus_two_tf2_cpu/00000123',
  ...[
    'int64_multiply',
    'model_multi_output',
    'model_single_input_multi_output',
    'module_with_multiple_signatures',
    'times_three_float',
    'times_two_int',
    'uint8_multiply',
  ].map((m) => `tfjs-node/${m}`),
].map((m) => `${FIXTURES}/${m}`);

describe('TF2 object graphs', () => {
  it('escapes local names as TensorFlow does', () => {
    expect(escapeLocalName('a.b/c')).toBe('a..b.Sc');
  });

  it.each(TF2_MODELS)(
    "%s: keys derived from the SavedObjectGraph are the checkpoint's own keys",
    async (dir) => {
      const bundle = await openTensorBundle(`${dir}/variables/variables`);
      try {
        const [graphBytes] = await bundle.readStrings(OBJECT_GRAPH_KEY);
        const checkpoint = decodeCheckpointObjectGraph(graphBytes!, OBJECT_GRAPH_KEY);
        const stored = checkpoint
          .flatMap((n) => n.attributes)
          .filter((a) => a.name === 'VARIABLE_VALUE')
          .map((a) => a.checkpointKey)
          .sort();
        expect(stored.length).toBeGreaterThan(0);
        // Every stored key names a variable in the bundle.
        const names = new Set(bundle.tensors.map((t) => t.name));
        for (const key of stored) expect(names.has(key)).toBe(true);
        const meta = (await readSavedModel(`${dir}/saved_model.pb`)).metaGraphs[0]!;
        expect([...variableCheckpointKeys(meta.objectGraph!).values()].sort()).toEqual(stored);
      } finally {
        await bundle.close();
      }
    },
  );
});
