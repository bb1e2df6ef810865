import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isServeError } from '../errors.js';
import { parseModelConfig, selectVersions } from './config.js';

const parse = (doc: unknown) => parseModelConfig(doc, 'REPO/m/config.yaml');

describe('config.yaml', () => {
  it('reads every field', () => {
    const config = parse({
      backend: 'onnxruntime',
      max_batch_size: 16,
      dynamic_batching: {
        max_queue_delay_us: 100,
        preferred_batch_sizes: [4, 8],
        max_queue_size: 10,
        default_timeout_us: 5000,
      },
      instances: {
        count: 2,
        intra_op_threads: 1,
        inter_op_threads: 1,
        allow_spinning: true,
        placement: 'worker',
      },
      version_policy: { specific: [1, 3] },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [8] }],
      outputs: [{ name: 'y' }],
      warmup: { runs: 2, batch_size: 4 },
    });
    expect(config).toEqual({
      backend: 'onnxruntime',
      maxBatchSize: 16,
      dynamicBatching: {
        maxQueueDelayUs: 100,
        preferredBatchSizes: [4, 8],
        maxQueueSize: 10,
        defaultTimeoutUs: 5000,
      },
      instances: {
        count: 2,
        intraOpThreads: 1,
        interOpThreads: 1,
        allowSpinning: true,
        placement: 'worker',
      },
      versionPolicy: { kind: 'specific', versions: [1, 3] },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [8] }],
      outputs: [{ name: 'y' }],
      warmup: { runs: 2, batchSize: 4 },
    });
  });

  it.each([
    [
      { max_batch_size: -1 },
      'REPO/m/config.yaml: max_batch_size: must be an integer from 0 to 65536 (got -1)',
    ],
    [
      { dynamic_batching: { max_delay: 1 } },
      'REPO/m/config.yaml: dynamic_batching.max_delay: unknown field (known: max_queue_delay_us, preferred_batch_sizes, max_queue_size, default_timeout_us)',
    ],
    [
      { max_batch_size: 4, dynamic_batching: { preferred_batch_sizes: [2, 8] } },
      'REPO/m/config.yaml: dynamic_batching.preferred_batch_sizes[1]: is 8, over max_batch_size 4',
    ],
    [
      { instances: { allow_spinning: 'yes' } },
      'REPO/m/config.yaml: instances.allow_spinning: must be true or false (got "yes")',
    ],
    [
      { instances: { placement: 'gpu' } },
      'REPO/m/config.yaml: instances.placement: must be one of auto, worker, event_loop (got "gpu")',
    ],
    [
      { instances: { count: 0 } },
      'REPO/m/config.yaml: instances.count: must be an integer from 1 to 64 (got 0)',
    ],
    [
      { version_policy: { latest: 1, all: true } },
      'REPO/m/config.yaml: version_policy: must have exactly one of latest, all, specific',
    ],
    [
      { inputs: [{ name: 'x', datatype: 'FLOAT' }] },
      'REPO/m/config.yaml: inputs[0].datatype: must be a protocol datatype (got "FLOAT")',
    ],
    [
      { inputs: [{ name: 'x', shape: [8, 'n'] }] },
      'REPO/m/config.yaml: inputs[0].shape[1]: must be an integer from -1 to 2147483647 (got "n")',
    ],
    [['a list'], 'REPO/m/config.yaml: : must be a mapping'],
  ])('%j is refused with one clear line', (doc, message) => {
    expect(() => parse(doc)).toThrow(message);
  });

  it('version policies pick from the versions present', () => {
    expect(selectVersions({ kind: 'latest', count: 2 }, [3, 1, 10])).toEqual([3, 10]);
    expect(selectVersions({ kind: 'all' }, [3, 1])).toEqual([1, 3]);
    expect(selectVersions({ kind: 'specific', versions: [1, 7] }, [3, 1])).toEqual([1]);
  });

  it('any parsed document raises only ServeError (fuzz)', () => {
    fc.assert(
      fc.property(fc.anything(), (doc) => {
        try {
          parse(doc);
        } catch (error) {
          if (!isServeError(error)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });
});
