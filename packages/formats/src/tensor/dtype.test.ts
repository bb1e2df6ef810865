import { describe, expect, it } from 'vitest';
import {
  DTYPE_TABLE,
  DTYPES,
  dtypeFromGgml,
  dtypeFromNumpy,
  dtypeFromOnnx,
  dtypeFromProtocol,
  dtypeFromTf,
  dtypeFromTorch,
  dtypeFromTorchStorage,
  dtypeSize,
  isDType,
} from './dtype.js';

describe('dtype table', () => {
  it('has exactly the sixteen safetensors dtypes, each keyed by its own name', () => {
    expect(DTYPES).toEqual([
      'BOOL',
      'U8',
      'I8',
      'U16',
      'I16',
      'F16',
      'BF16',
      'U32',
      'I32',
      'F32',
      'U64',
      'I64',
      'F64',
      'F8_E4M3',
      'F8_E5M2',
      'C64',
    ]);
    for (const name of DTYPES) expect(DTYPE_TABLE[name].name).toBe(name);
  });

  it('maps every format code back to the same dtype (no two dtypes share a code)', () => {
    for (const info of Object.values(DTYPE_TABLE)) {
      expect(dtypeFromOnnx(info.onnx)).toBe(info.name);
      if (info.torch) expect(dtypeFromTorch(info.torch)).toBe(info.name);
      if (info.torchStorage) expect(dtypeFromTorchStorage(info.torchStorage)).toBe(info.name);
      if (info.tf !== null) expect(dtypeFromTf(info.tf)).toBe(info.name);
      if (info.numpy) expect(dtypeFromNumpy(info.numpy)?.dtype).toBe(info.name);
      if (info.ggml !== null) expect(dtypeFromGgml(info.ggml)).toBe(info.name);
      if (info.protocol !== null) expect(dtypeFromProtocol(info.protocol)).toBe(info.name);
    }
  });

  it('uses the codes the upstream enums define', () => {
    // onnx.proto TensorProto.DataType
    expect(dtypeFromOnnx(1)).toBe('F32');
    expect(dtypeFromOnnx(7)).toBe('I64');
    expect(dtypeFromOnnx(16)).toBe('BF16');
    expect(dtypeFromOnnx(8)).toBeUndefined(); // STRING
    // tensorflow types.proto: DT_HALF = 19, DT_BFLOAT16 = 14, DT_FLOAT_REF = 101
    expect(dtypeFromTf(19)).toBe('F16');
    expect(dtypeFromTf(14)).toBe('BF16');
    expect(dtypeFromTf(101)).toBe('F32');
    expect(dtypeFromTf(7)).toBeUndefined(); // DT_STRING
    // ggml.h: GGML_TYPE_F16 = 1, GGML_TYPE_BF16 = 30, Q4_0 = 2 has no dense dtype
    expect(dtypeFromGgml(1)).toBe('F16');
    expect(dtypeFromGgml(30)).toBe('BF16');
    expect(dtypeFromGgml(2)).toBeUndefined();
    expect(dtypeFromTorch('float16')).toBe('F16');
    expect(dtypeFromTorchStorage('torch.LongStorage')).toBe('I64');
  });

  it('reads NumPy byte order and refuses objects and strings', () => {
    expect(dtypeFromNumpy('>f8')).toEqual({ dtype: 'F64', byteOrder: 'big' });
    expect(dtypeFromNumpy('<i4')).toEqual({ dtype: 'I32', byteOrder: 'little' });
    expect(dtypeFromNumpy('=u2')).toEqual({ dtype: 'U16', byteOrder: 'little' });
    expect(dtypeFromNumpy('|b1')).toEqual({ dtype: 'BOOL', byteOrder: 'little' });
    expect(dtypeFromNumpy('>u1')).toEqual({ dtype: 'U8', byteOrder: 'little' });
    expect(dtypeFromNumpy('|O')).toBeUndefined();
    expect(dtypeFromNumpy('<U10')).toBeUndefined();
    expect(dtypeFromNumpy('<c16')).toBeUndefined();
  });

  it('knows element sizes and rejects unknown names', () => {
    expect(dtypeSize('BF16')).toBe(2);
    expect(dtypeSize('C64')).toBe(8);
    expect(isDType('F32')).toBe(true);
    expect(isDType('float32')).toBe(false);
    expect(isDType('__proto__')).toBe(false);
  });
});
