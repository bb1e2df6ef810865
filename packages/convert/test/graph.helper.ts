import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import {
  checkModel,
  decodeModel,
  encodeModel,
  type OnnxModel,
  type TfAttrValue,
  type TfFunctionDef,
  type TfNodeDef,
  type TfSignatureDef,
  type TfTensor,
} from '../src/formats.js';
import { emitOnnx, prepareGraph } from '../src/savedmodel-to-onnx/convert.js';
import type { FrozenValue } from '../src/savedmodel-to-onnx/freeze.js';

/** Small TensorFlow graphs built in memory, converted, and run in onnxruntime-node. */
export const F32 = 1;
export const I32 = 3;
export const I64 = 9;
export const BOOL = 10;

const emptyList = { s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] };

export const attr = {
  type: (value: number): TfAttrValue => ({ kind: 'type', value }),
  int: (value: number): TfAttrValue => ({ kind: 'i', value: BigInt(value) }),
  float: (value: number): TfAttrValue => ({ kind: 'f', value }),
  bool: (value: boolean): TfAttrValue => ({ kind: 'b', value }),
  str: (value: string): TfAttrValue => ({ kind: 's', value: new TextEncoder().encode(value) }),
  ints: (values: number[]): TfAttrValue => ({ kind: 'list', value: { ...emptyList, i: values.map(BigInt) } }),
  func: (name: string): TfAttrValue => ({ kind: 'func', value: { name, attr: {} } }),
  shape: (dims: number[]): TfAttrValue => ({ kind: 'shape', value: { dims, unknownRank: false } }),
};

export function bytesOf(dtype: number, values: readonly number[]): Uint8Array {
  const size = dtype === I64 ? 8 : dtype === BOOL ? 1 : 4;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (dtype === F32) view.setFloat32(i * 4, v, true);
    else if (dtype === I32) view.setInt32(i * 4, v, true);
    else if (dtype === I64) view.setBigInt64(i * 8, BigInt(v), true);
    else out[i] = v;
  });
  return out;
}

export function tensor(dtype: number, dims: number[], values: readonly number[]): TfTensor {
  return {
    dtype,
    shape: { dims, unknownRank: false },
    versionNumber: 0,
    tensorContent: bytesOf(dtype, values),
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
}

export function node(
  name: string,
  op: string,
  inputs: string[] = [],
  attrs: Record<string, TfAttrValue> = {},
): TfNodeDef {
  return { name, op, inputs, device: '', attr: attrs };
}

export const constant = (name: string, dtype: number, dims: number[], values: readonly number[]): TfNodeDef =>
  node(name, 'Const', [], {
    dtype: attr.type(dtype),
    value: { kind: 'tensor', value: tensor(dtype, dims, values) },
  });

export const placeholder = (name: string, dtype: number): TfNodeDef =>
  node(name, 'Placeholder', [], { dtype: attr.type(dtype) });

type Spec = Record<string, [tensor: string, dtype: number, dims: number[] | null]>;

export function signature(inputs: Spec, outputs: Spec): TfSignatureDef {
  const info = ([name, dtype, dims]: [string, number, number[] | null]) => ({
    encoding: 'dense' as const,
    name,
    dtype,
    shape: dims ? { dims, unknownRank: false } : null,
  });
  return {
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, info(v)])),
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, info(v)])),
  } as TfSignatureDef;
}

export function fn(
  name: string,
  inputs: [string, number][],
  outputs: string[],
  nodes: TfNodeDef[],
  ret: Record<string, string>,
): TfFunctionDef {
  const arg = ([n, type]: [string, number]) => ({
    name: n,
    type,
    typeAttr: '',
    numberAttr: '',
    typeListAttr: '',
    isRef: false,
  });
  return {
    name,
    signature: {
      name,
      inputArgs: inputs.map(arg),
      outputArgs: outputs.map((o) => arg([o, 0])),
      controlOutputs: [],
      attrs: [],
      isStateful: false,
    },
    nodes,
    ret,
    controlRet: {},
    attr: {},
    argAttr: {},
  };
}

export function convert(
  nodes: TfNodeDef[],
  sig: TfSignatureDef,
  functions: TfFunctionDef[] = [],
  variables: Map<string, FrozenValue> = new Map(),
): OnnxModel {
  const prepared = prepareGraph({ nodes, functions, versions: null }, sig, '<test>');
  const model = emitOnnx(prepared, variables);
  expect(checkModel(model)).toEqual([]);
  return model;
}

export type Feed = Record<string, ort.Tensor>;

/** Converts, checks, runs; returns each output as [dims, values]. */
export async function runGraph(
  nodes: TfNodeDef[],
  sig: TfSignatureDef,
  feeds: Feed,
  functions: TfFunctionDef[] = [],
  variables?: Map<string, FrozenValue>,
): Promise<Record<string, { dims: number[]; values: number[] }>> {
  const model = convert(nodes, sig, functions, variables);
  const bytes = encodeModel(model);
  expect(checkModel(decodeModel(bytes))).toEqual([]);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([k, t]) => [
        k,
        {
          dims: [...t.dims],
          values: Array.from(t.data as ArrayLike<number | bigint | boolean>, (v) => Number(v)),
        },
      ]),
    );
  } finally {
    await session.release();
  }
}

export const f32 = (dims: number[], values: number[]) =>
  new ort.Tensor('float32', Float32Array.from(values), dims);
export const i32 = (dims: number[], values: number[]) =>
  new ort.Tensor('int32', Int32Array.from(values), dims);

export const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
