import { ferryError } from '@ferry/formats';
import type { OnnxGraph, OnnxNode, OnnxTensor } from '../onnx-schema.js';
import {
  floatValues,
  makeNode,
  makeTensor,
  type NameSet,
  ONNX_FLOAT,
  ONNX_INT8,
  ONNX_UINT8,
} from './graph-data.js';
import type { Candidate } from './op-quantizer.js';
import type { QuantizeOptions } from './options.js';
import { type QuantizedWeight, qRange, quantizeWeight, scaleZeroPoint } from './params.js';

export interface QuantizedActivation {
  readonly q: string;
  readonly scale: string;
  readonly zp: string;
  dq?: string;
}

export interface QuantizedInitializer {
  readonly q: string;
  readonly scale: string;
  readonly zp: string;
  readonly w: QuantizedWeight;
  readonly dims: number[];
  dq?: string;
}

/**
 * The graph being rewritten: the nodes and initializers written so far, fresh names, and the
 * activations and weights already quantized (each once, reused by every consumer: q, k and v
 * share x).
 */
export class QuantizeContext {
  readonly nodes: OnnxNode[] = [];
  readonly newInitializers: OnnxTensor[] = [];
  private readonly activations = new Map<string, QuantizedActivation>();
  private readonly weights = new Map<string, QuantizedInitializer>();

  constructor(
    readonly path: string,
    /** The copy of the input graph (its initializers are those of the input until the end). */
    readonly graph: OnnxGraph,
    readonly names: NameSet,
    readonly options: QuantizeOptions,
  ) {}

  get isStatic(): boolean {
    return this.options.activationRanges !== undefined;
  }

  get reduceRange(): boolean {
    return this.options.reduceRange ?? false;
  }

  /** Activation `x` as uint8: DynamicQuantizeLinear, or QuantizeLinear with its calibrated range. */
  activation(x: string, wantDq: boolean): QuantizedActivation {
    const { names, nodes } = this;
    let entry = this.activations.get(x);
    if (!entry) {
      const q = names.fresh(`${x}_quantized`);
      const scale = names.fresh(`${x}_scale`);
      const zp = names.fresh(`${x}_zero_point`);
      const range = this.options.activationRanges?.get(x);
      if (this.isStatic) {
        if (!range)
          throw ferryError('FERRY_BAD_ARGUMENT', {
            what: `activation ${x}`,
            reason: 'no calibrated range (calibration did not reach it)',
          });
        const [qmin, qmax] = qRange('uint8', this.reduceRange, false);
        const p = scaleZeroPoint(range.min, range.max, qmin, qmax, false);
        this.newInitializers.push(makeTensor(scale, ONNX_FLOAT, [], Float32Array.of(p.scale)));
        this.newInitializers.push(makeTensor(zp, ONNX_UINT8, [], Uint8Array.of(p.zeroPoint)));
        nodes.push(makeNode('QuantizeLinear', [x, scale, zp], [q], names.fresh(`${x}_QuantizeLinear`)));
      } else {
        nodes.push(
          makeNode('DynamicQuantizeLinear', [x], [q, scale, zp], names.fresh(`${x}_DynamicQuantizeLinear`)),
        );
      }
      entry = { q, scale, zp };
      this.activations.set(x, entry);
    }
    if (wantDq && !entry.dq) {
      entry.dq = names.fresh(`${x}_dequantized`);
      nodes.push(
        makeNode(
          'DequantizeLinear',
          [entry.q, entry.scale, entry.zp],
          [entry.dq],
          names.fresh(`${x}_DequantizeLinear`),
        ),
      );
    }
    return entry;
  }

  /** The candidate's weight as symmetric int8, once per initializer and layout ([K, N] for the integer ops). */
  weight(c: Candidate, layout: 'stored' | 'kn', perChannel: boolean): QuantizedInitializer {
    const key = `${c.weight.name}|${layout}|${perChannel}`;
    let entry = this.weights.get(key);
    if (!entry) {
      const { names } = this;
      let data = floatValues(this.path, c.weight);
      let dims = (c.weight.dims ?? []).map(Number);
      let axis = c.channelAxis;
      if (layout === 'kn' && c.transposedWeight) {
        data = transpose2d(data, dims[0]!, dims[1]!);
        dims = [dims[1]!, dims[0]!];
        axis = 1;
      }
      const w = quantizeWeight(data, dims, { ...(perChannel && { axis }), reduceRange: this.reduceRange });
      const base = c.weight.name ?? 'weight';
      const q = names.fresh(`${base}_quantized`);
      const scale = names.fresh(`${base}_scale`);
      const zp = names.fresh(`${base}_zero_point`);
      const channels = w.scales.length;
      this.newInitializers.push(makeTensor(q, ONNX_INT8, dims, w.values));
      this.newInitializers.push(makeTensor(scale, ONNX_FLOAT, perChannel ? [channels] : [], w.scales));
      this.newInitializers.push(makeTensor(zp, ONNX_INT8, perChannel ? [channels] : [], w.zeroPoints));
      entry = { q, scale, zp, w, dims };
      this.weights.set(key, entry);
    }
    return entry;
  }

  /** A zero point of 0 (weights are symmetric): one scalar serves every channel. */
  zeroScalar(w: { q: string }): string {
    const zp = this.names.fresh(`${w.q}_zero`);
    this.newInitializers.push(makeTensor(zp, ONNX_INT8, [], Int8Array.of(0)));
    return zp;
  }
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
