import type { TfAttrValue } from '../formats.js';
import type { OnnxBuilder } from './builder.js';
import { readInts } from './dtypes.js';
import type { FrozenValue } from './freeze.js';
import type { FlatNode } from './inline.js';
import { convertError } from '../errors.js';

/**
 * A TensorFlow tensor as the converter knows it: its ONNX value name, TF dtype, rank where known,
 * its value where it is a constant (Const, frozen variables: ops whose ONNX form needs numbers
 * read them), or the variable node a resource handle points at.
 */
export interface Val {
  readonly name: string;
  readonly dtype: number;
  readonly rank: number | null;
  readonly konst?: FrozenValue;
  readonly resource?: string;
  /** A 1-D integer tensor packed from scalars: the values known at conversion, null elsewhere. */
  readonly elements?: readonly (number | null)[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** What one op converter sees: the node, its converted inputs, and the builder to emit into. */
export class OpContext {
  constructor(
    readonly b: OnnxBuilder,
    readonly node: FlatNode,
    readonly inputs: readonly Val[],
    readonly path: string,
    private readonly variables: ReadonlyMap<string, Val>,
  ) {}

  get hint(): string {
    return this.node.name;
  }

  input(i: number): Val {
    const v = this.inputs[i];
    if (!v) this.fail(`it has ${this.inputs.length} inputs, the op needs input ${i}`);
    return v!;
  }

  fail(reason: string): never {
    throw convertError('FERRY_TF2ONNX_NODE', {
      path: this.path,
      node: this.node.name,
      op: this.node.op,
      fn: this.node.fn,
      reason,
    });
  }

  unsupported(reason: string): never {
    throw convertError('FERRY_TF2ONNX_UNSUPPORTED_OP', {
      path: this.path,
      op: this.node.op,
      node: this.node.name,
      fn: this.node.fn,
      reason,
    });
  }

  attr(name: string): TfAttrValue | undefined {
    return this.node.attr[name];
  }

  int(name: string, fallback?: number): number {
    const a = this.attr(name);
    if (a?.kind === 'i') return Number(a.value);
    if (fallback === undefined) this.fail(`attribute ${name} is missing or not an integer`);
    return fallback!;
  }

  float(name: string, fallback: number): number {
    const a = this.attr(name);
    return a?.kind === 'f' ? a.value : fallback;
  }

  bool(name: string, fallback = false): boolean {
    const a = this.attr(name);
    return a?.kind === 'b' ? a.value : fallback;
  }

  str(name: string, fallback = ''): string {
    const a = this.attr(name);
    return a?.kind === 's' ? utf8.decode(a.value) : fallback;
  }

  ints(name: string): number[] {
    const a = this.attr(name);
    return a?.kind === 'list' ? a.value.i.map(Number) : [];
  }

  type(name: string, fallback?: number): number {
    const a = this.attr(name);
    if (a?.kind === 'type') return a.value;
    if (fallback === undefined) this.fail(`attribute ${name} is missing or not a type`);
    return fallback!;
  }

  /** The dtype of output 0: attr T, dtype or the first input's. */
  get dtype(): number {
    return this.type('T', this.type('dtype', this.inputs[0]?.dtype ?? 0));
  }

  /** A constant input's integer values; ONNX needs them as attributes or static shapes. */
  constInts(i: number, what: string): number[] {
    const v = this.input(i);
    if (!v.konst) this.fail(`its ${what} (input ${i}) must be a constant to convert`);
    return readInts(v.konst!.dtype, v.konst!.bytes);
  }

  /** A constant input holding exactly one integer (an axis). */
  constInt(i: number, what: string): number {
    const values = this.constInts(i, what);
    if (values.length !== 1)
      this.fail(`its ${what} (input ${i}) holds ${values.length} values, one expected`);
    return values[0]!;
  }

  /** Rank of output i from the node's `_output_shapes` attr, which exporters record. */
  outputRank(i = 0): number | null {
    const a = this.attr('_output_shapes');
    const shape = a?.kind === 'list' ? a.value.shape[i] : undefined;
    return shape && !shape.unknownRank ? shape.dims.length : null;
  }

  /** A frozen variable's initializer (one per variable, however many reads). */
  variable(node: string): Val {
    const value = this.variables.get(node);
    if (!value) this.fail(`variable ${node} was not frozen`);
    return value!;
  }

  /** A Val for a new ONNX value; rank falls back to `_output_shapes`. */
  val(name: string, dtype: number, rank: number | null = null, index = 0): Val {
    return { name, dtype, rank: rank ?? this.outputRank(index) };
  }
}

export type Converter = (ctx: OpContext) => Val[];
