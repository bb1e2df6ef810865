import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from '../formats.js';

/** ai.onnx opset the converter writes (ONNX Runtime 1.14+ runs it). */
export const SKLEARN_OPSET = 17;
/** ai.onnx.ml opset: TreeEnsemble*, LinearRegressor, Scaler, Imputer (version 3). */
export const SKLEARN_ML_OPSET = 3;
export const SKLEARN_IR_VERSION = 8;

// TensorProto.DataType (onnx.proto).
export const FLOAT = 1;
export const INT64 = 7;
export const STRING = 8;
export const BOOL = 9;
export const DOUBLE = 11;

export type Attr =
  | number
  | string
  | number[]
  | string[]
  | { f: number }
  | { floats: number[] }
  | { ints: number[] };

const utf8 = new TextEncoder();

function attribute(name: string, v: Attr): OnnxAttribute {
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8.
  if (typeof v === 'number') return { name, type: 2, i: BigInt(v) };
  if (typeof v === 'string') return { name, type: 3, s: utf8.encode(v) };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string')
      return { name, type: 8, strings: (v as string[]).map((s) => utf8.encode(s)) };
    return { name, type: 7, ints: (v as number[]).map((x) => BigInt(x)) };
  }
  if ('f' in v) return { name, type: 1, f: v.f };
  if ('ints' in v) return { name, type: 7, ints: v.ints.map((x) => BigInt(x)) };
  return { name, type: 6, floats: v.floats };
}

/** Nodes and initializers of the converted graph; names are unique by construction. */
export class Graph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** Types of ai.onnx.ml outputs: onnx's checker has no type inference for LinearRegressor or Imputer. */
  readonly valueInfo: OnnxValueInfo[] = [];
  private counter = 0;

  constructor(readonly path: string) {}

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  op(
    type: string,
    inputs: string[],
    attrs: Record<string, Attr | undefined> = {},
    domain = '',
    outputs = 1,
    names?: string[],
  ): string[] {
    const out = names ?? Array.from({ length: outputs }, () => this.fresh(type.toLowerCase()));
    const attribute_ = Object.entries(attrs)
      .filter((e): e is [string, Attr] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    this.nodes.push({
      input: inputs,
      output: out,
      name: this.fresh(`n_${type}`),
      op_type: type,
      ...(domain && { domain }),
      ...(attribute_.length > 0 && { attribute: attribute_ }),
    });
    return out;
  }

  one(type: string, inputs: string[], attrs: Record<string, Attr | undefined> = {}, domain = ''): string {
    return this.op(type, inputs, attrs, domain)[0]!;
  }

  /** An ai.onnx.ml node with one float output of shape [N, width]. */
  ml(type: string, inputs: string[], attrs: Record<string, Attr | undefined>, width: number): string {
    const out = this.op(type, inputs, attrs, 'ai.onnx.ml')[0]!;
    this.valueInfo.push(valueInfo(out, FLOAT, ['N', width]));
    return out;
  }

  floats(values: readonly number[], dims: readonly number[] = [values.length], hint = 'w'): string {
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.tensor(hint, FLOAT, dims, raw);
  }

  doubles(values: readonly number[], dims: readonly number[] = [values.length], hint = 'd'): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
    return this.tensor(hint, DOUBLE, dims, raw);
  }

  int64s(values: readonly number[], dims: readonly number[] = [values.length], hint = 'i'): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i]!), true);
    return this.tensor(hint, INT64, dims, raw);
  }

  strings(values: readonly string[], hint = 'labels'): string {
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      data_type: STRING,
      dims: [BigInt(values.length)],
      string_data: values.map((s) => utf8.encode(s)),
    });
    return name;
  }

  private tensor(hint: string, type: number, dims: readonly number[], raw: Uint8Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, data_type: type, dims: dims.map((d) => BigInt(d)), raw_data: raw });
    return name;
  }

  /** Columns `cols` of a [N, F] float tensor. */
  columns(input: string, cols: readonly number[]): string {
    return this.one('Gather', [input, this.int64s(cols)], { axis: 1 });
  }

  model(inputs: OnnxValueInfo[], outputs: OnnxValueInfo[], doc: string): OnnxModel {
    return {
      ir_version: BigInt(SKLEARN_IR_VERSION),
      producer_name: 'ferry',
      producer_version: '0.1.0',
      doc_string: doc,
      opset_import: [
        { domain: '', version: BigInt(SKLEARN_OPSET) },
        { domain: 'ai.onnx.ml', version: BigInt(SKLEARN_ML_OPSET) },
      ],
      graph: {
        name: 'sklearn',
        node: this.nodes,
        initializer: this.initializers,
        value_info: this.valueInfo,
        input: inputs,
        output: outputs,
      },
    };
  }
}

/** A value info with `N` for the batch dimension. */
export function valueInfo(name: string, type: number, dims: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: type,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dim_value: BigInt(d) } : { dim_param: d })),
        },
      },
    },
  };
}

/**
 * The largest float32 at or below t. sklearn compares a float32 feature with a float64
 * threshold (`x <= t`); for every float32 x that equals `x <= floor32(t)`, so a float32
 * threshold attribute gives the same branch as sklearn (skl2onnx rounds the same way).
 */
export function floorFloat32(t: number): number {
  if (!Number.isFinite(t)) return t;
  const f = Math.fround(t);
  if (f <= t) return f;
  // One float32 step down.
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  let bits = buf.getUint32(0);
  if (f === 0) bits = 0x80000001;
  else if (f > 0) bits -= 1;
  else bits += 1;
  buf.setUint32(0, bits);
  return buf.getFloat32(0);
}
