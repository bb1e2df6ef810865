import { describe, expect, it } from 'vitest';
import { OPTIMIZE_ERRORS, OptimizeError, optimizeError } from './errors.js';

describe('optimize error table', () => {
  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(OPTIMIZE_ERRORS)) {
      expect(code).toMatch(/^FERRY_(OPTIMIZE|QUANTIZE|FP16)_[A-Z0-9_]+$/);
      expect([400, 500, 503]).toContain(spec.http);
    }
  });

  it('fills the template and keeps the code and status', () => {
    const error = optimizeError('FERRY_QUANTIZE_OPSET', {
      path: 'm.onnx',
      what: 'int8 quantization',
      needed: 10,
      opset: 9,
    });
    expect(error).toBeInstanceOf(OptimizeError);
    expect(error.message).toBe(
      'm.onnx: int8 quantization needs ai.onnx opset 10 or later, the model imports 9',
    );
    expect(error.http).toBe(400);
    expect(error.permanent).toBe(true);
  });
});
