import { describe, expect, it } from 'vitest';
import { QUANTIZABLE_OPS } from './options.js';
import { QUANTIZERS } from './registry.js';

describe('the quantizer registry', () => {
  it('has exactly one quantizer per quantizable op', () => {
    expect(Object.keys(QUANTIZERS).sort()).toEqual([...QUANTIZABLE_OPS].sort());
  });

  it("reads Gather's table (input 0) without quantizing its indices; the others quantize input 0 against weight input 1", () => {
    expect(QUANTIZERS.Gather).toMatchObject({ weightInput: 0, quantizesActivation: false });
    for (const op of ['MatMul', 'Gemm', 'Conv'] as const)
      expect(QUANTIZERS[op]).toMatchObject({ weightInput: 1, quantizesActivation: true });
  });

  it('each quantizer gives its own reason for a weight it cannot take', () => {
    const weight = { name: 'w', data_type: 1, dims: [4n] };
    const none = { constant: () => undefined };
    expect(QUANTIZERS.MatMul.select({ op_type: 'MatMul', input: ['x', 'w'] }, weight, none)).toEqual({
      skip: 'weight w has rank 1, fewer than 2',
    });
    expect(QUANTIZERS.Gemm.select({ op_type: 'Gemm', input: ['x', 'w'] }, weight, none)).toEqual({
      skip: 'weight w has rank 1, not 2',
    });
    expect(QUANTIZERS.Conv.select({ op_type: 'Conv', input: ['x', 'w'] }, weight, none)).toEqual({
      skip: 'weight w has rank 1',
    });
  });
});
