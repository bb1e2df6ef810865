import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors.js';
import { tfTensorToBytes } from './tensor-proto.js';
import type { TfTensor } from './types.js';

const base: TfTensor = {
  dtype: 1,
  shape: { dims: [], unknownRank: false },
  versionNumber: 0,
  tensorContent: null,
  halfVal: [],
  floatVal: [],
  doubleVal: [],
  intVal: [],
  stringVal: [],
  scomplexVal: [],
  int64Val: [],
  boolVal: [],
  dcomplexVal: [],
  uint32Val: [],
  uint64Val: [],
  float8Val: null,
};
const t = (over: Partial<TfTensor>, dims: number[]): TfTensor => ({
  ...base,
  ...over,
  shape: { dims, unknownRank: false },
});
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('tfTensorToBytes', () => {
  it('expands typed values, repeating the last one to fill the shape', () => {
    expect(hex(tfTensorToBytes(t({ floatVal: [1, 2] }, [3])).bytes)).toBe('0000803f0000004000000040');
    expect(hex(tfTensorToBytes(t({ dtype: 3, intVal: [-1] }, [2])).bytes)).toBe('ffffffffffffffff');
    expect(hex(tfTensorToBytes(t({ dtype: 9, int64Val: [5n] }, [])).bytes)).toBe('0500000000000000');
    expect(hex(tfTensorToBytes(t({ dtype: 10, boolVal: [true, false] }, [2])).bytes)).toBe('0100');
    expect(hex(tfTensorToBytes(t({ dtype: 4, intVal: [255] }, [2])).bytes)).toBe('ffff');
    expect(hex(tfTensorToBytes(t({ dtype: 19, halfVal: [0x3c00] }, [1])).bytes)).toBe('003c');
    expect(hex(tfTensorToBytes(t({ dtype: 8, scomplexVal: [1, 2] }, [2])).bytes)).toBe(
      '0000803f000000400000803f00000040',
    );
    expect(hex(tfTensorToBytes(t({}, [2])).bytes)).toBe('0000000000000000'); // no values: zeros
    const content = Uint8Array.from([0, 0, 0x80, 0x3f]);
    expect(tfTensorToBytes(t({ tensorContent: content }, [1])).bytes).toBe(content); // zero-copy
  });

  it('rejects strings, unknown shapes, mismatched content and huge expansions', () => {
    const code = (tensor: TfTensor): string => {
      try {
        tfTensorToBytes(tensor);
        return 'ok';
      } catch (error) {
        if (!isFerryError(error)) throw error;
        return error.code;
      }
    };
    expect(code(t({ dtype: 7, stringVal: [new Uint8Array(1)] }, [1]))).toBe('FERRY_UNSUPPORTED');
    expect(code(t({}, [-1]))).toBe('FERRY_TENSOR_SHAPE');
    expect(code(t({ tensorContent: new Uint8Array(3) }, [1]))).toBe('FERRY_TENSOR_SHAPE');
    expect(code(t({ floatVal: [1, 2, 3] }, [2]))).toBe('FERRY_TENSOR_SHAPE');
    expect(code(t({ floatVal: [1] }, [1 << 20, 1 << 20]))).toBe('FERRY_LIMIT');
  });
});
