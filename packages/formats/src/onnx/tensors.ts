import { ferryError } from '../errors.js';
import type { OpaqueTensor } from '../model.js';
import { BufferSource } from '../tensor/byte-source.js';
import { type DType, dtypeFromOnnx, dtypeSize } from '../tensor/dtype.js';
import { denseByteLength, type TensorRef } from '../tensor/tensor-ref.js';
import { type ExternalDataResolver, parseExternalData } from './external-data.js';
import { MAX_ONNX_TENSOR_RANK } from './limits.js';
import { DATA_LOCATION_EXTERNAL, ONNX_DATA_TYPE_NAMES, type OnnxTensor } from './schema.js';

/** What an initializer turns into: a dense tensor ferry can hand out, or an opaque one it reports. */
export type InitializerResult =
  | { ref: TensorRef; opaque?: undefined }
  | { ref?: undefined; opaque: OpaqueTensor };

export interface TensorContext {
  /** The model file, for messages. */
  readonly path: string;
  /** The whole file, so raw_data views become ranges of it. */
  readonly file: BufferSource;
  readonly external: ExternalDataResolver;
}

export function onnxTypeName(code: number | undefined): string {
  return ONNX_DATA_TYPE_NAMES[code ?? 0] ?? `data_type ${code}`;
}

/** Dims as numbers, each checked: they come from the file. */
export function tensorDims(path: string, tensor: OnnxTensor): number[] {
  const dims = tensor.dims ?? [];
  const name = tensor.name ?? '';
  if (dims.length > MAX_ONNX_TENSOR_RANK) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: `rank of tensor ${name}`,
      value: dims.length,
      limit: MAX_ONNX_TENSOR_RANK,
      reason: "NumPy's maximum rank; longer dims lists are hostile (CWE-400)",
    });
  }
  return dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw ferryError('FERRY_TENSOR_SHAPE', {
        path,
        tensor: name,
        reason: `dimension ${d} is out of range`,
      });
    }
    return Number(d);
  });
}

function countOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Which typed field holds each dtype when raw_data is not used (onnx.proto comments on
 * TensorProto): small ints, bools, FLOAT16/BFLOAT16 bit patterns and FLOAT8 are widened into
 * int32_data; UINT32 goes in uint64_data.
 */
const TYPED_FIELD: Record<DType, 'float_data' | 'int32_data' | 'int64_data' | 'double_data' | 'uint64_data'> =
  {
    BOOL: 'int32_data',
    U8: 'int32_data',
    I8: 'int32_data',
    U16: 'int32_data',
    I16: 'int32_data',
    F16: 'int32_data',
    BF16: 'int32_data',
    I32: 'int32_data',
    F8_E4M3: 'int32_data',
    F8_E5M2: 'int32_data',
    F32: 'float_data',
    C64: 'float_data',
    I64: 'int64_data',
    F64: 'double_data',
    U32: 'uint64_data',
    U64: 'uint64_data',
  };

const TYPED_FIELDS = [
  'float_data',
  'int32_data',
  'int64_data',
  'double_data',
  'uint64_data',
  'string_data',
] as const;

/** Converts an initializer into a TensorRef (or an opaque entry), checking its data size. */
export async function initializerToTensor(
  ctx: TensorContext,
  tensor: OnnxTensor,
): Promise<InitializerResult> {
  const name = tensor.name ?? '';
  const path = ctx.path;
  const shape = tensorDims(path, tensor);
  const dtype = dtypeFromOnnx(tensor.data_type ?? 0);
  const fail = (rule: string) => ferryError('FERRY_ONNX_TENSOR_DATA', { path, tensor: name, rule });
  const external = tensor.data_location === DATA_LOCATION_EXTERNAL;

  let stored:
    | {
        source: BufferSource | Awaited<ReturnType<ExternalDataResolver['resolve']>>;
        offset: number;
        length: number;
      }
    | undefined;
  if (external) {
    const info = parseExternalData(path, tensor);
    const source = await ctx.external.resolve(name, info.location);
    const rangeFail = (rule: string) =>
      ferryError('FERRY_ONNX_EXTERNAL_RANGE', { path, tensor: name, location: info.location, rule });
    if (info.offset > source.size)
      throw rangeFail(`offset ${info.offset} is past the end of the file (${source.size} bytes)`);
    const length = info.length ?? source.size - info.offset;
    if (info.offset + length > source.size)
      throw rangeFail(
        `offset ${info.offset} + length ${length} runs past the end of the file (${source.size} bytes)`,
      );
    stored = { source, offset: info.offset, length };
  } else if (tensor.raw_data !== undefined) {
    const raw = tensor.raw_data;
    const offset = raw.byteOffset - ctx.file.bytes.byteOffset;
    if (raw.buffer !== ctx.file.bytes.buffer || offset < 0 || offset + raw.byteLength > ctx.file.size)
      throw fail('raw_data is not a view of the model file');
    stored = { source: ctx.file, offset, length: raw.byteLength };
  }
  if (tensor.segment) {
    return {
      opaque: opaque(
        name,
        tensor,
        shape,
        stored?.length ?? 0,
        'segmented tensor (TensorProto.segment): one part of a larger tensor',
      ),
    };
  }

  if (!dtype) {
    const reason = `ONNX ${onnxTypeName(tensor.data_type)} has no ferry dtype`;
    const length = stored?.length ?? (tensor.string_data ?? []).reduce((sum, s) => sum + s.byteLength, 0);
    return { opaque: opaque(name, tensor, shape, length, reason) };
  }
  const byteLength = denseByteLength(dtype, shape, path, name);

  if (stored) {
    if (stored.length !== byteLength) {
      throw fail(
        `${external ? 'external data' : 'raw_data'} holds ${stored.length} bytes, ${dtype} ${JSON.stringify(shape)} needs ${byteLength}`,
      );
    }
    return { ref: { name, dtype, shape, source: stored.source, offset: stored.offset, byteLength } };
  }
  const field = TYPED_FIELD[dtype];
  for (const other of TYPED_FIELDS) {
    if (other !== field && (tensor[other]?.length ?? 0) > 0)
      throw fail(`${dtype} data found in ${other}, expected ${field}`);
  }
  const values = (tensor[field] ?? []) as readonly (number | bigint)[];
  const expected = countOf(shape) * (dtype === 'C64' ? 2 : 1);
  if (values.length !== expected) {
    throw fail(`${field} holds ${values.length} values, ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
  }
  const bytes = typedToBytes(dtype, values);
  return { ref: { name, dtype, shape, source: new BufferSource(bytes, path), offset: 0, byteLength } };
}

function opaque(
  name: string,
  tensor: OnnxTensor,
  shape: number[],
  byteLength: number,
  reason: string,
): OpaqueTensor {
  return { name, type: onnxTypeName(tensor.data_type), shape, byteLength, reason };
}

/** Typed-field values as little-endian bytes of `dtype`. */
export function typedToBytes(dtype: DType, values: readonly (number | bigint)[]): Uint8Array {
  const size = dtype === 'C64' ? 4 : dtypeSize(dtype);
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = i * size;
    switch (dtype) {
      case 'F32':
      case 'C64':
        view.setFloat32(at, v as number, true);
        break;
      case 'F64':
        view.setFloat64(at, v as number, true);
        break;
      case 'BOOL':
        view.setUint8(at, v !== 0 ? 1 : 0);
        break;
      case 'U8':
      case 'I8':
      case 'F8_E4M3':
      case 'F8_E5M2':
        view.setUint8(at, (v as number) & 0xff);
        break;
      case 'U16':
      case 'I16':
      case 'F16':
      case 'BF16':
        view.setUint16(at, (v as number) & 0xffff, true);
        break;
      case 'I32':
        view.setInt32(at, v as number, true);
        break;
      case 'I64':
        view.setBigInt64(at, v as bigint, true);
        break;
      case 'U32':
        view.setUint32(at, Number(BigInt.asUintN(32, v as bigint)), true);
        break;
      case 'U64':
        view.setBigUint64(at, v as bigint, true);
        break;
    }
  }
  return out;
}
