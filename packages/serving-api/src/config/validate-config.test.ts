import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE, MAX_PREFERRED_BATCH_SIZES } from '../limits.js';
import { DEFAULT_CONFIG } from '../model-config.js';
import { validateModelConfig, validateServingKnobs } from './validate-config.js';
import { type ConfigIssue, fieldPathText, type ValidateOptions } from './walk.js';

const lines = (issues: readonly ConfigIssue[]) => issues.map((i) => `${fieldPathText(i.path)}: ${i.rule}`);
const issuesOf = (doc: unknown, options: ValidateOptions) => {
  const result = validateModelConfig(doc, options);
  return result.ok ? [] : lines(result.issues);
};

const BROKEN = {
  max_batch_size: 4,
  dynamic_batching: { preferred_batch_sizes: [2, 8, 'x'] },
  instances: { count: 0, allow_spinning: 'yes', placement: 'gpu' },
  colour: 'blue',
};

describe('the model config validator', () => {
  it('stops at the first broken rule in first mode', () => {
    expect(issuesOf(BROKEN, { mode: 'first', wording: 'config-yaml' })).toEqual([
      'colour: unknown field (known: backend, max_batch_size, dynamic_batching, instances, version_policy, inputs, outputs, warmup)',
    ]);
  });

  it('keeps every broken rule in all mode, in the order of the declared fields', () => {
    expect(issuesOf(BROKEN, { mode: 'all', wording: 'config-yaml' })).toEqual([
      expect.stringMatching(/^colour: unknown field/),
      'dynamic_batching.preferred_batch_sizes[2]: must be an integer from 1 to 65536 (got "x")',
      'dynamic_batching.preferred_batch_sizes[1]: is 8, over max_batch_size 4',
      'instances.count: must be an integer from 1 to 64 (got 0)',
      'instances.allow_spinning: must be true or false (got "yes")',
      'instances.placement: must be one of auto, worker, event_loop (got "gpu")',
    ]);
  });

  it("words the same rules as ferry.yaml does, under the block's own path", () => {
    const result = validateServingKnobs(
      { max_batch_size: 4, dynamic_batching: { preferred_batch_sizes: [8] }, instances: { placement: 1 } },
      { mode: 'all', wording: 'ferry-yaml', at: ['serving'] },
    );
    expect(result.ok ? [] : lines(result.issues)).toEqual([
      'serving.dynamic_batching.preferred_batch_sizes[0]: 8 is larger than serving.max_batch_size (4)',
      'serving.instances.placement: must be one of auto, worker, event_loop, not number 1',
    ]);
  });

  it('holds a ferry.yaml serving block to the same bounds as config.yaml', () => {
    for (const wording of ['config-yaml', 'ferry-yaml'] as const) {
      const knobs = validateServingKnobs({ max_batch_size: MAX_BATCH_SIZE + 1 }, { mode: 'all', wording });
      const config = validateModelConfig({ max_batch_size: MAX_BATCH_SIZE + 1 }, { mode: 'all', wording });
      expect(knobs.ok).toBe(false);
      expect(config).toEqual(knobs);
    }
    // config.yaml fields a bundle does not set are unknown in its serving block
    expect(validateServingKnobs({ backend: 'onnxruntime' }, { mode: 'all', wording: 'ferry-yaml' })).toEqual({
      ok: false,
      issues: [
        { path: ['backend'], rule: 'unknown field (known: max_batch_size, dynamic_batching, instances)' },
      ],
    });
  });

  it(`refuses more than ${MAX_PREFERRED_BATCH_SIZES} preferred batch sizes`, () => {
    const sizes = Array.from({ length: MAX_PREFERRED_BATCH_SIZES + 1 }, (_, i) => i + 1);
    expect(
      issuesOf(
        { dynamic_batching: { preferred_batch_sizes: sizes } },
        { mode: 'first', wording: 'config-yaml' },
      ),
    ).toEqual([
      `dynamic_batching.preferred_batch_sizes: has ${sizes.length} entries, over the limit of ${MAX_PREFERRED_BATCH_SIZES}`,
    ]);
  });

  it('defaults every absent field, and keeps only what a serving block sets', () => {
    expect(validateModelConfig({}, { mode: 'first', wording: 'config-yaml' })).toEqual({
      ok: true,
      value: DEFAULT_CONFIG,
    });
    expect(
      validateModelConfig(
        { instances: { count: 2 }, version_policy: { all: true } },
        { mode: 'first', wording: 'config-yaml' },
      ),
    ).toEqual({
      ok: true,
      value: {
        ...DEFAULT_CONFIG,
        instances: { count: 2, placement: 'auto' },
        versionPolicy: { kind: 'all' },
      },
    });
    expect(validateServingKnobs({ instances: { count: 2 } }, { mode: 'all', wording: 'ferry-yaml' })).toEqual(
      {
        ok: true,
        value: { instances: { count: 2 } },
      },
    );
  });

  it('reports in first mode exactly the first issue all mode reports (fuzz)', () => {
    const knob = fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.boolean(), fc.string(), fc.constant(null));
    const doc = fc.oneof(
      fc.anything(),
      fc.record(
        {
          max_batch_size: knob,
          dynamic_batching: fc.record(
            { preferred_batch_sizes: fc.array(knob, { maxLength: 4 }), x: knob },
            { requiredKeys: [] },
          ),
          instances: fc.record({ count: knob, placement: knob, allow_spinning: knob }, { requiredKeys: [] }),
          version_policy: fc.record(
            { latest: knob, all: knob, specific: fc.array(knob) },
            { requiredKeys: [] },
          ),
          inputs: fc.array(
            fc.record({ name: knob, datatype: knob, shape: fc.array(knob) }, { requiredKeys: [] }),
          ),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(doc, (value) => {
        for (const wording of ['config-yaml', 'ferry-yaml'] as const) {
          const first = validateModelConfig(value, { mode: 'first', wording });
          const all = validateModelConfig(value, { mode: 'all', wording });
          expect(first.ok).toBe(all.ok);
          if (!first.ok && !all.ok) {
            expect(first.issues).toHaveLength(1);
            expect(first.issues[0]).toEqual(all.issues[0]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
