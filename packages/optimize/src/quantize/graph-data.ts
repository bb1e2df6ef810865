import { ferryError } from '@ferry/formats';
import {
  DATA_LOCATION_EXTERNAL,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../onnx-schema.js';

/** TensorProto.DataType codes the transforms write (onnx.proto). */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_BOOL = 9;
export const ONNX_FLOAT16 = 10;
export const ONNX_DOUBLE = 11;

/** A FLOAT initializer's values (raw_data or float_data); external data must be inlined first. */
export function floatValues(path: string, tensor: OnnxTensor): Float32Array {
  const name = tensor.name ?? '';
  if (tensor.data_location === DATA_LOCATION_EXTERNAL)
    throw ferryError('FERRY_UNSUPPORTED', {
      path,
      what: `external data of tensor ${name}`,
      reason: 'load the model with its external data inlined before transforming it',
    });
  const count = (tensor.dims ?? []).reduce((a, d) => a * Number(d), 1);
  if (tensor.raw_data !== undefined) {
    const raw = tensor.raw_data;
    if (raw.byteLength !== count * 4)
      throw ferryError('FERRY_ONNX_TENSOR_DATA', {
        path,
        tensor: name,
        rule: `raw_data holds ${raw.byteLength} bytes, FLOAT of ${count} elements needs ${count * 4}`,
      });
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const values = tensor.float_data ?? [];
  if (values.length !== count)
    throw ferryError('FERRY_ONNX_TENSOR_DATA', {
      path,
      tensor: name,
      rule: `float_data holds ${values.length} values, ${count} needed`,
    });
  return Float32Array.from(values);
}

/** A new initializer with little-endian raw_data. */
export function makeTensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  values: Float32Array | Int8Array | Uint8Array | Uint16Array | BigInt64Array,
): OnnxTensor {
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  if (values instanceof Float32Array) {
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  } else if (values instanceof Uint16Array) {
    for (let i = 0; i < values.length; i++) view.setUint16(i * 2, values[i]!, true);
  } else if (values instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, values[i]!, true);
  } else bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return { name, data_type: dataType, dims: dims.map(BigInt), raw_data: bytes };
}

export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

export function floatAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.f !== undefined ? a.f : fallback;
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attributes: OnnxAttribute[] = [],
  domain?: string,
): OnnxNode {
  return {
    op_type: opType,
    input: inputs,
    output: outputs,
    name,
    ...(attributes.length > 0 && { attribute: attributes }),
    ...(domain && { domain }),
  };
}

/** AttributeProto.AttributeType codes (onnx.proto). */
export const ATTR_INT = 2;

export const intAttribute = (name: string, value: number): OnnxAttribute => ({
  name,
  i: BigInt(value),
  type: ATTR_INT,
});

/** The version of the default (ai.onnx) opset the model imports, 0 when none. */
export function defaultOpset(model: OnnxModel): number {
  const entry = model.opset_import?.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  return entry ? Number(entry.version ?? 0n) : 0;
}

export function setDefaultOpset(model: OnnxModel, version: number): void {
  const entry = model.opset_import?.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = BigInt(version);
}

/** Hands out names not yet used in the graph. */
export class NameSet {
  private readonly used = new Set<string>();
  constructor(names: Iterable<string>) {
    for (const n of names) this.used.add(n);
  }
  add(name: string): void {
    this.used.add(name);
  }
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Every name a model's main graph uses: values, initializers, node names. */
export function graphNames(model: OnnxModel): string[] {
  const g = model.graph ?? {};
  const names: string[] = [];
  for (const t of g.initializer ?? []) names.push(t.name ?? '');
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.value_info ?? [])])
    names.push(v.name ?? '');
  for (const n of g.node ?? []) names.push(n.name ?? '', ...(n.input ?? []), ...(n.output ?? []));
  return names;
}
