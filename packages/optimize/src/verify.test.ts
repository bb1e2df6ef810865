import { describe, expect, it } from 'vitest';
import { inputSpecs, randomFeeds, sampleFeeds } from './inputs.js';
import { compareArrays } from './verify.js';

describe('compareArrays', () => {
  it('max abs, relative to the output scale, and top-1 over [rows, classes]', () => {
    const a = [1, 5, 2, 0, -4, 3];
    const b = [1, 4.5, 2, 0, -4, 3.5];
    const c = compareArrays('y', a, b, [[2, 3]]);
    expect(c).toMatchObject({ maxAbsError: 0.5, maxRelError: 0.1, rows: 2 });
    expect(c.top1Agreement).toBe(1);
    const flipped = compareArrays('y', a, [1, 1, 2, 0, -4, 3], [[2, 3]]);
    expect(flipped.top1Agreement).toBe(0.5);
  });

  it('no top-1 for outputs that are not [batch, classes]', () => {
    expect(compareArrays('y', [1, 2, 3, 4], [1, 2, 3, 4], [[1, 2, 2]]).top1Agreement).toBeUndefined();
  });

  it('a NaN in the result is an infinite error', () => {
    expect(compareArrays('y', [1, 2], [1, Number.NaN], [[2]]).maxAbsError).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('random inputs', () => {
  it('batch N on the symbolic first dim, ids kept inside their embedding table', () => {
    const model = {
      graph: {
        input: [
          {
            name: 'ids',
            type: {
              tensor_type: { elem_type: 7, shape: { dim: [{ dim_param: 'batch' }, { dim_param: 'seq' }] } },
            },
          },
        ],
        initializer: [{ name: 'table', data_type: 1, dims: [5n, 3n] }],
        node: [{ op_type: 'Gather', input: ['table', 'ids'], output: ['e'] }],
      },
    };
    const specs = inputSpecs(model);
    expect(specs).toEqual([{ name: 'ids', elem: 7, dims: [null, null], intBound: 5 }]);
    const [feed] = randomFeeds(specs, 4, 3);
    const ids = feed!.ids!;
    expect(ids.dims).toEqual([4, 8]);
    expect([...(ids.data as BigInt64Array)].every((v) => v >= 0n && v < 5n)).toBe(true);
    // Seeded: the same seed gives the same inputs.
    expect([...(randomFeeds(specs, 4, 3)[0]!.ids!.data as BigInt64Array)]).toEqual([
      ...(ids.data as BigInt64Array),
    ]);
  });
});

describe('sample feeds', () => {
  const spec = (dims: (number | null)[]) => [{ name: 'x', elem: 1, dims, intBound: 2 }];
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const samples = [{ name: 'x', dtype: 'F32' as const, shape: [4, 2], bytes: new Uint8Array(x.buffer) }];

  it('one batch for a symbolic batch dim, one run per sample for a batch fixed at 1', () => {
    expect(sampleFeeds(spec([null, 2]), samples, 's')).toHaveLength(1);
    const runs = sampleFeeds(spec([1, 2]), samples, 's');
    expect(runs.map((f) => [...(f.x!.data as Float32Array)])).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    expect(runs[0]!.x!.dims).toEqual([1, 2]);
  });

  it('refuses a shape or dtype that does not fit, naming the input', () => {
    expect(() => sampleFeeds(spec([null, 3]), samples, 's.safetensors')).toThrow(
      "s.safetensors: input x: dim 1 is 2, the model's input has 3",
    );
    expect(() => sampleFeeds([{ name: 'x', elem: 7, dims: [null, 2], intBound: 2 }], samples, 's')).toThrow(
      /dtype F32 does not fit the input's ONNX type 7/,
    );
  });
});
