import { finding } from '../finding-kinds.js';
import { ferryError } from '../errors.js';
import type { Finding, OpaqueTensor } from '../model.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { denseByteLength, numel, type TensorRef } from '../tensor/tensor-ref.js';
import type { NpyHeader } from './npy-header.js';

export interface NpyArray {
  readonly tensor?: TensorRef;
  readonly opaque?: OpaqueTensor;
  readonly findings: readonly Finding[];
}

/** Column-major element strides: axis 0 varies fastest. */
export function fortranStrides(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let step = 1;
  for (const dim of shape) {
    strides.push(step);
    step *= Math.max(dim, 1);
  }
  return strides;
}

/**
 * One array: a TensorRef for numeric dtypes (Fortran order as strides, so readTensorBytes
 * gathers C order; big-endian as byteOrder), an opaque entry for anything else. The data is
 * never read here, only its extent checked against the source's size.
 */
export function npyArray(name: string, header: NpyHeader, source: ByteSource): NpyArray {
  const path = source.name;
  const available = source.size - header.dataOffset;
  const findings: Finding[] = [];
  const { descr } = header;
  if (descr.kind === 'dense') {
    const byteLength = denseByteLength(descr.dtype, header.shape, path, name);
    if (byteLength > available) {
      throw ferryError('FERRY_TRUNCATED', {
        path,
        what: `array data of ${byteLength} bytes (${descr.text}, shape ${JSON.stringify(header.shape)})`,
        offset: header.dataOffset,
        size: source.size,
      });
    }
    if (byteLength < available) {
      findings.push(
        finding(
          'npy-trailing-data',
          `${available - byteLength} bytes after the array data that numpy would ignore`,
          `${name} byte ${header.dataOffset + byteLength}`,
        ),
      );
    }
    const tensor: TensorRef = {
      name,
      dtype: descr.dtype,
      shape: header.shape,
      source,
      offset: header.dataOffset,
      byteLength,
      ...(descr.byteOrder === 'big' && { byteOrder: 'big' as const }),
      ...(header.fortranOrder && header.shape.length > 1 && { strides: fortranStrides(header.shape) }),
    };
    return { tensor, findings };
  }
  let byteLength = available;
  if (descr.itemSize !== undefined) {
    const bytes = BigInt(numel(header.shape)) * BigInt(descr.itemSize);
    if (bytes > BigInt(available)) {
      throw ferryError('FERRY_TRUNCATED', {
        path,
        what: `array data of ${bytes} bytes (${descr.text})`,
        offset: header.dataOffset,
        size: source.size,
      });
    }
    byteLength = Number(bytes);
  }
  if (descr.object) {
    findings.push(
      finding(
        'npy-object-array',
        `${name} is an object array (${descr.text}): its data is a pickle, which numpy.load runs only with allow_pickle=True; ferry reports it and never loads it (the pickle scanner reads it)`,
        `${name} byte ${header.dataOffset}`,
      ),
    );
  }
  const reason = descr.object
    ? 'object array: the data is a pickle'
    : descr.type === 'structured'
      ? `structured dtype ${descr.text}`
      : `dtype ${descr.text} has no ferry equivalent`;
  return {
    opaque: { name, type: descr.type, shape: header.shape, byteLength, reason },
    findings,
  };
}
