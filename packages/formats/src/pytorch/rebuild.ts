import { ferryError } from '../errors.js';
import type { OpaqueTensor } from '../model.js';
import { judgeGlobal } from '../pickle/policy.js';
import { globalName, isNode, type PickleValue, type PyCall } from '../pickle/values.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { type DType, dtypeFromTorchStorage, dtypeSize } from '../tensor/dtype.js';
import type { TensorRef } from '../tensor/tensor-ref.js';

/** A storage as the loader found it: its bytes and what they hold. */
export interface Storage {
  readonly key: string;
  readonly source: ByteSource;
  /** Byte offset of element 0 in source. */
  readonly offset: number;
  /** Elements available from offset. */
  readonly numel: number;
  readonly dtype: DType | undefined;
  /** torch's storage class name, for storages ferry has no dtype for (QInt8, ComplexDouble). */
  readonly typeName: string;
  readonly byteOrder: 'little' | 'big';
}

/** Parsed persistent id `('storage', storage_type, key, location, numel[, view_metadata])`. */
export interface StorageId {
  readonly typeName: string;
  readonly dtype: DType | undefined;
  readonly key: string;
  readonly numel: number;
  readonly view?: { readonly key: string; readonly offset: number; readonly numel: number };
}

export function parseStorageId(value: PickleValue, path: string): StorageId {
  const bad = (reason: string) =>
    ferryError('FERRY_PICKLE_STRUCTURE', { path, what: 'storage persistent id', reason });
  if (!isNode(value) || value.kind !== 'persid')
    throw bad('a tensor refers to something that is not a storage');
  const id = value.value;
  if (!isNode(id) || id.kind !== 'tuple' || id.items[0] !== 'storage' || id.items.length < 5) {
    throw bad(`expected ('storage', type, key, location, numel) at byte ${value.offset}`);
  }
  const [, type, key, , numel, view] = id.items;
  if (!isNode(type ?? null) || (type as { kind: string }).kind !== 'global')
    throw bad('the storage type is not a global');
  const typeName = globalName(type as Parameters<typeof globalName>[0]).replace(/^torch\.(cuda\.)?/, '');
  if (typeof key !== 'string' && typeof key !== 'number') throw bad('the storage key is not a string');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
    throw bad('the element count is not an int');
  const dtype = typeName === 'UntypedStorage' ? 'U8' : dtypeFromTorchStorage(typeName);
  let viewInfo: StorageId['view'];
  if (isNode(view ?? null) && (view as { kind: string }).kind === 'tuple') {
    const [vkey, voffset, vsize] = (view as { items: PickleValue[] }).items;
    if (
      (typeof vkey !== 'string' && typeof vkey !== 'number') ||
      typeof voffset !== 'number' ||
      typeof vsize !== 'number'
    ) {
      throw bad('bad view metadata');
    }
    viewInfo = { key: String(vkey), offset: voffset, numel: vsize };
  }
  return { typeName, dtype, key: String(key), numel, ...(viewInfo && { view: viewInfo }) };
}

function intTuple(value: PickleValue | undefined): number[] | undefined {
  let v = value ?? null;
  // torch.Size((2, 3)) in some protocol-0 pickles.
  if (
    isNode(v) &&
    v.kind === 'call' &&
    isNode(v.callee) &&
    v.callee.kind === 'global' &&
    globalName(v.callee) === 'torch.Size'
  ) {
    v = v.args[0] ?? null;
  }
  if (!isNode(v) || (v.kind !== 'tuple' && v.kind !== 'list')) return undefined;
  if (!v.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return undefined;
  return v.items as number[];
}

const REBUILD_TENSOR = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v3',
]);
const REBUILD_PARAMETER = new Set([
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
]);

/** Tensors torch rebuilds that have no dense (dtype, shape, bytes) form: reported, not dropped. */
const OPAQUE_REBUILDS: Record<string, { reason: string; shape: (call: PyCall) => number[] | undefined }> = {
  'torch._utils._rebuild_sparse_tensor': {
    reason: 'sparse COO tensor (indices + values)',
    // (layout, (indices, values, size))
    shape: (call) => {
      const data = call.args[1] ?? null;
      return isNode(data) && data.kind === 'tuple' ? intTuple(data.items[2]) : undefined;
    },
  },
  'torch._utils._rebuild_sparse_csr_tensor': {
    reason: 'sparse CSR tensor',
    shape: (call) => {
      const data = call.args[1] ?? null;
      return isNode(data) && data.kind === 'tuple' ? intTuple(data.items[3]) : undefined;
    },
  },
  'torch._utils._rebuild_meta_tensor_no_storage': {
    reason: 'meta tensor: a shape with no data',
    shape: (call) => intTuple(call.args[1]),
  },
  'torch._utils._rebuild_qtensor': {
    reason: 'quantized tensor (scale and zero point apply)',
    shape: (call) => intTuple(call.args[2]),
  },
};

function calleeName(call: PyCall): string | undefined {
  return isNode(call.callee) && call.callee.kind === 'global' ? judgeGlobal(call.callee).name : undefined;
}

/**
 * Turns torch's rebuild calls into TensorRefs over the loader's storages:
 * _rebuild_tensor_v2(storage, storage_offset, size, stride, ...), _rebuild_parameter(data, ...),
 * _rebuild_from_type_v2(func, type, args, state). Tensors over the same storage range with the
 * same layout (tied weights) get the same source, offset and length, and are reported as tied.
 */
export class TorchTensors {
  /** name -> the first name with the same storage range and layout. */
  readonly tied: Record<string, string> = {};
  private readonly layouts = new Map<string, string>();

  constructor(
    private readonly path: string,
    private readonly storage: (id: StorageId, persid: PickleValue) => Storage,
  ) {}

  tensorOf = (value: PickleValue, name: string): TensorRef | OpaqueTensor | undefined => {
    if (!isNode(value) || value.kind !== 'call') return undefined;
    const callee = calleeName(value);
    if (callee && REBUILD_PARAMETER.has(callee)) return this.tensorOf(value.args[0] ?? null, name);
    if (callee === 'torch._tensor._rebuild_from_type_v2') {
      const [func, , args] = value.args;
      if (isNode(args ?? null) && (args as { kind: string }).kind === 'tuple') {
        const inner: PyCall = {
          ...value,
          callee: func ?? null,
          args: (args as { items: PickleValue[] }).items,
        };
        return this.tensorOf(inner, name);
      }
      return undefined;
    }
    if (callee && OPAQUE_REBUILDS[callee]) {
      const { reason, shape } = OPAQUE_REBUILDS[callee]!;
      return {
        name,
        type: callee.replace('torch._utils._rebuild_', ''),
        shape: shape(value) ?? [],
        byteLength: 0,
        reason,
      };
    }
    if (!callee || !REBUILD_TENSOR.has(callee)) return undefined;
    const [persid, storageOffset, sizeValue, strideValue] = value.args;
    const bad = (reason: string) =>
      ferryError('FERRY_PICKLE_STRUCTURE', {
        path: this.path,
        what: `tensor ${name} (byte ${value.offset})`,
        reason,
      });
    const id = parseStorageId(persid ?? null, this.path);
    const shape = intTuple(sizeValue);
    const stride = intTuple(strideValue);
    if (!shape || !stride || shape.length !== stride.length)
      throw bad('size and stride are not int tuples of one length');
    if (typeof storageOffset !== 'number' || !Number.isSafeInteger(storageOffset) || storageOffset < 0) {
      throw bad('the storage offset is not an int');
    }
    const storage = this.storage(id, persid ?? null);
    let span = 1;
    let numel = 1;
    for (let i = 0; i < shape.length; i++) {
      span += (shape[i]! - 1) * stride[i]!;
      numel *= shape[i]!;
    }
    if (numel === 0) span = 0;
    if (!Number.isSafeInteger(span) || storageOffset + span > storage.numel) {
      throw bad(
        `elements ${storageOffset}..${storageOffset + span} run past its storage of ${storage.numel}`,
      );
    }
    if (!storage.dtype) {
      return {
        name,
        type: storage.typeName,
        shape,
        byteLength: 0,
        reason: `${storage.typeName} has no ferry dtype`,
      };
    }
    const size = dtypeSize(storage.dtype);
    let contiguous = true;
    let expected = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (shape[axis] !== 1 && stride[axis] !== expected) contiguous = false;
      expected *= shape[axis]!;
    }
    const ref: TensorRef = {
      name,
      dtype: storage.dtype,
      shape,
      source: storage.source,
      offset: storage.offset + storageOffset * size,
      byteLength: span * size,
      ...(storage.byteOrder === 'big' && { byteOrder: 'big' as const }),
      ...(!contiguous && { strides: stride }),
    };
    const layout = `${storage.key}|${storageOffset}|${shape.join(',')}|${stride.join(',')}|${storage.dtype}`;
    const first = this.layouts.get(layout);
    if (first === undefined) this.layouts.set(layout, name);
    else this.tied[name] = first;
    return ref;
  };
}
