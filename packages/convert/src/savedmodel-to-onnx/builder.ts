import type { OnnxAttribute, OnnxNode, OnnxTensor } from '../formats.js';
import { onnxDtypeOf, scalarBytes, TF_INT64 } from './dtypes.js';

/** An attribute value: integer(s), a float (`{ f }`), floats, a string, or a tensor. */
export type AttrInput =
  | number
  | readonly number[]
  | string
  | { readonly f: number }
  | { readonly floats: readonly number[] };

const utf8 = new TextEncoder();

function toAttribute(name: string, value: AttrInput): OnnxAttribute {
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7 (onnx.proto).
  if (typeof value === 'number') return { name, type: 2, i: BigInt(value) };
  if (typeof value === 'string') return { name, type: 3, s: utf8.encode(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: (value as number[]).map((v) => BigInt(v)) };
  if ('f' in (value as object)) return { name, type: 1, f: (value as { f: number }).f };
  return { name, type: 6, floats: [...(value as { floats: readonly number[] }).floats] };
}

/**
 * Collects ONNX nodes and initializers. Every name it makes contains a colon after the TF node's
 * name (`node:onnx3`), as TF tensor names do (`node:0`), so none can clash with a signature key.
 */
export class OnnxBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  fresh(hint: string): string {
    return `${hint}:onnx${this.counter++}`;
  }

  /** Adds a node; returns its output names (`outputs` fresh ones, or the given names). */
  add(
    op: string,
    inputs: readonly string[],
    hint: string,
    attrs: Readonly<Record<string, AttrInput | undefined>> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    const names =
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(hint)) : [...outputs];
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrInput] => e[1] !== undefined)
      .map(([k, v]) => toAttribute(k, v));
    this.nodes.push({
      input: [...inputs],
      output: names,
      name: this.fresh(hint),
      op_type: op,
      ...(attribute.length > 0 && { attribute }),
    });
    return names;
  }

  /** One output node: the common case. */
  op(
    op: string,
    inputs: readonly string[],
    hint: string,
    attrs?: Readonly<Record<string, AttrInput | undefined>>,
  ): string {
    return this.add(op, inputs, hint, attrs)[0]!;
  }

  initializer(
    hint: string,
    tfDtype: number,
    dims: readonly number[],
    bytes: Uint8Array,
    name?: string,
  ): string {
    const out = name ?? this.fresh(hint);
    this.initializers.push({
      name: out,
      data_type: onnxDtypeOf(tfDtype),
      dims: dims.map((d) => BigInt(d)),
      raw_data: bytes,
    });
    return out;
  }

  /** An int64 constant (shapes, axes, pads), shared between nodes that ask for the same values. */
  int64s(values: readonly number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => {
      view.setBigInt64(i * 8, BigInt(v), true);
    });
    const name = this.initializer(
      'const',
      TF_INT64,
      scalar ? [] : [values.length],
      bytes,
      `const:i64:${key}`,
    );
    this.constCache.set(key, name);
    return name;
  }

  /** A scalar of a TensorFlow dtype (0, 1, 6 for Relu6...). */
  scalar(tfDtype: number, value: number): string {
    const key = `t${tfDtype}:${value}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.initializer('const', tfDtype, [], scalarBytes(tfDtype, value), `const:${key}`);
    this.constCache.set(key, name);
    return name;
  }
}
