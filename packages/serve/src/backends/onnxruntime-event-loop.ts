import { createRequire } from 'node:module';
import { ownedByBatch, recycleBatchBuffer, type Tensor } from '@ferry/serving-api';
import type { ModelInstance } from '@ferry/serving-api';
import { fromOrtData, toOrtData } from './onnxruntime-tensors.js';

interface OrtSession {
  run(feeds: Record<string, unknown>, fetches: readonly string[]): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}
interface OrtOutput {
  type: string;
  dims: readonly number[];
  data: ArrayBufferView | string[];
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
}

/** onnxruntime-node, loaded on the main thread only when a model runs there. */
let ortModule: OrtModule | undefined;
function ort(): OrtModule {
  ortModule ??= createRequire(import.meta.url)('onnxruntime-node') as OrtModule;
  return ortModule;
}

/** An onnxruntime session on the event loop's thread: no hand-off, for models whose runs are tiny. */
export class EventLoopInstance implements ModelInstance {
  private constructor(private readonly session: OrtSession) {}

  static async create(model: Uint8Array, options: object): Promise<EventLoopInstance> {
    return new EventLoopInstance(await ort().InferenceSession.create(model, options));
  }

  async run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>> {
    const { Tensor: OrtTensor } = ort();
    const feeds: Record<string, unknown> = {};
    for (const [name, tensor] of inputs) {
      const data = toOrtData(name, tensor, 'view');
      feeds[name] = new OrtTensor(data.type, data.data, data.dims);
    }
    const results = await this.session.run(feeds, outputs);
    // the run has ended and the feeds are dropped: a batch's joined input can take the next batch
    for (const tensor of inputs.values())
      if (tensor.datatype !== 'BYTES' && ownedByBatch(tensor.bytes))
        recycleBatchBuffer(tensor.bytes.buffer as ArrayBuffer);
    const out = new Map<string, Tensor>();
    for (const name of outputs) {
      const t = results[name]!;
      out.set(name, fromOrtData({ name, type: t.type, dims: t.dims, data: t.data }));
    }
    return out;
  }

  close(): Promise<void> {
    return this.session.release();
  }
}
