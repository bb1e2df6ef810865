import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { serveError } from '../errors.js';
import type { Datatype } from '../tensor/datatype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Backend, BackendOptions, LoadedModel, ModelInstance, TensorMetadata } from './backend.js';

/** Protocol datatype <-> onnxruntime-node tensor type. BF16 is absent: onnxruntime-node has no bfloat16 tensors. */
const TO_ORT: Readonly<Partial<Record<Datatype, ort.Tensor.Type>>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const FROM_ORT = new Map(Object.entries(TO_ORT).map(([k, v]) => [v, k as Datatype]));

type ArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
  BYTES_PER_ELEMENT: number;
};
const ARRAYS: Readonly<Partial<Record<Datatype, ArrayCtor>>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export const onnxruntimeBackend: Backend = {
  name: 'onnxruntime',
  platform: 'onnx_onnxv1',
  fileNames: ['model.onnx'],
  checkTensor(name: string, tensor: Tensor): void {
    if (tensor.datatype !== 'BYTES') return;
    // onnxruntime-node passes strings to C++ as NUL-terminated UTF-8: refuse what it would corrupt
    tensor.strings.forEach((s, i) => {
      if (s.includes(0))
        throw serveError('FERRY_SERVE_INPUT', {
          input: name,
          reason: `BYTES element ${i} contains a NUL byte, which onnxruntime string tensors cannot hold`,
        });
      try {
        utf8.decode(s);
      } catch {
        throw serveError('FERRY_SERVE_INPUT', {
          input: name,
          reason: `BYTES element ${i} is not valid UTF-8, which onnxruntime string tensors require`,
        });
      }
    });
  },
  async load(path: string, options: BackendOptions): Promise<LoadedModel> {
    const bytes = await readFile(path);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads !== undefined && { intraOpNumThreads: options.intraOpThreads }),
      ...(options.interOpThreads !== undefined && { interOpNumThreads: options.interOpThreads }),
    };
    const create = async () => {
      try {
        return await ort.InferenceSession.create(bytes, sessionOptions);
      } catch (error) {
        throw serveError('FERRY_SERVE_LOAD', { path, reason: (error as Error).message.split('\n')[0]! });
      }
    };
    const first = await create();
    const describe = (list: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorMetadata[] =>
      list.map((meta) => {
        const datatype = meta.isTensor ? FROM_ORT.get(meta.type) : undefined;
        if (!meta.isTensor || !datatype)
          throw serveError('FERRY_SERVE_LOAD', {
            path,
            reason: `${kind} ${meta.name} is ${meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor'}, which the protocol cannot carry`,
          });
        return {
          name: meta.name,
          datatype,
          shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
        };
      });
    const inputs = describe(first.inputMetadata, 'input');
    const outputs = describe(first.outputMetadata, 'output');
    let spare: ort.InferenceSession | undefined = first;
    return {
      inputs,
      outputs,
      async createInstance() {
        const session = spare ?? (await create());
        spare = undefined;
        return new OrtInstance(session);
      },
      async close() {
        await spare?.release();
        spare = undefined;
      },
    };
  },
};

class OrtInstance implements ModelInstance {
  constructor(private readonly session: ort.InferenceSession) {}

  async run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of inputs) feeds[name] = toOrt(tensor);
    const results = await this.session.run(feeds, outputs as string[]);
    const out = new Map<string, Tensor>();
    for (const name of outputs) out.set(name, fromOrt(results[name]!));
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function toOrt(tensor: Tensor): ort.Tensor {
  const dims = [...tensor.shape];
  if (tensor.datatype === 'BYTES')
    return new ort.Tensor(
      'string',
      tensor.strings.map((s) => utf8.decode(s)),
      dims,
    );
  const type = TO_ORT[tensor.datatype];
  const Ctor = ARRAYS[tensor.datatype];
  if (!type || !Ctor) throw new Error(`onnxruntime-node cannot carry ${tensor.datatype} tensors`);
  let { bytes } = tensor;
  // typed arrays need aligned offsets; a slice out of a request body may not be
  // (new Uint8Array copies; Buffer#slice would not)
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT !== 0) bytes = new Uint8Array(bytes);
  const data = new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  return new ort.Tensor(type, data as ort.Tensor.DataType, dims);
}

function fromOrt(value: ort.Tensor): Tensor {
  const datatype = FROM_ORT.get(value.type);
  if (!datatype)
    throw new Error(`onnxruntime returned a ${value.type} tensor, which the protocol cannot carry`);
  const shape = [...value.dims];
  if (datatype === 'BYTES')
    return { datatype, shape, strings: (value.data as string[]).map((s) => utf8Encoder.encode(s)) };
  const data = value.data as ArrayBufferView;
  return { datatype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
