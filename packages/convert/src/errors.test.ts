import { ERRORS } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import { CONVERT_ERRORS, ConvertError, convertError } from './errors.js';

describe('convert error table', () => {
  it('shares no code with formats', () => {
    expect(Object.keys(CONVERT_ERRORS).filter((code) => code in ERRORS)).toEqual([]);
  });

  it('fills the template and keeps the code and status', () => {
    const error = convertError('FERRY_ONNX_REPLACE_MISSING', { path: 'm.onnx', tensor: 'fc.weight' });
    expect(error).toBeInstanceOf(ConvertError);
    expect(error.message).toBe('m.onnx: initializer fc.weight has no replacement tensor');
    expect(error.http).toBe(400);
    expect(error.permanent).toBe(true);
  });
});
