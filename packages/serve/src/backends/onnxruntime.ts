import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { serveError } from '../errors.js';
import type { Datatype } from '../tensor/datatype.js';
import { ownedByBatch, type Tensor } from '../tensor/tensor.js';
import type { Backend, BackendOptions, LoadedModel, ModelInstance, TensorMetadata } from './backend.js';
import { WORKER_SOURCE } from './onnxruntime-worker-source.js';

/** Protocol datatype <-> onnxruntime-node tensor type. BF16 is absent: onnxruntime-node has no bfloat16 tensors. */
const TO_ORT: Readonly<Partial<Record<Datatype, string>>> = {
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

type ArrayCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
const ARRAYS: Readonly<Partial<Record<Datatype, ArrayCtor & { BYTES_PER_ELEMENT: number }>>> = {
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
const ORT_PATH = createRequire(import.meta.url).resolve('onnxruntime-node');

interface WorkerTensor {
  name: string;
  type: string;
  dims: readonly number[];
  data: ArrayBufferView | string[];
}
interface RawMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/**
 * ONNX Runtime's pool threads spin after each parallel section by default, waiting for the next.
 * In a server they spin on the cores the event loop needs to read requests: on the mid MLP at
 * concurrency 64 (2 cores) that cost ~50 µs of CPU per request and 5-10% of throughput, so ferry
 * turns it off unless config.yaml's instances.allow_spinning says otherwise.
 */
function spinning(allow: boolean) {
  const value = allow ? '1' : '0';
  return { intra_op: { allow_spinning: value }, inter_op: { allow_spinning: value } };
}

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
    const sessionOptions = {
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads !== undefined && { intraOpNumThreads: options.intraOpThreads }),
      ...(options.interOpThreads !== undefined && { interOpNumThreads: options.interOpThreads }),
      extra: { session: spinning(options.allowSpinning ?? false) },
    };
    const start = () => WorkerThread.start(path, bytes, sessionOptions);
    const first = await start();
    const describe = (list: readonly RawMetadata[], kind: string): TensorMetadata[] =>
      list.map((meta) => {
        const datatype = meta.isTensor && meta.type ? FROM_ORT.get(meta.type) : undefined;
        if (!datatype)
          throw serveError('FERRY_SERVE_LOAD', {
            path,
            reason: `${kind} ${meta.name} is ${meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor'}, which the protocol cannot carry`,
          });
        return {
          name: meta.name,
          datatype,
          shape: (meta.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
        };
      });
    let spare: WorkerThread | undefined = first;
    try {
      const inputs = describe(first.inputs, 'input');
      const outputs = describe(first.outputs, 'output');
      return {
        inputs,
        outputs,
        async createInstance() {
          const thread = spare ?? (await start());
          spare = undefined;
          return new WorkerInstance(thread, start);
        },
        async close() {
          await spare?.close();
          spare = undefined;
        },
      };
    } catch (error) {
      await first.close();
      throw error;
    }
  },
};

/**
 * An instance: one worker thread at a time. A thread that died (out of memory, an error on its
 * JavaScript side) fails the batch it was running and is replaced before the next one.
 */
class WorkerInstance implements ModelInstance {
  constructor(
    private thread: WorkerThread,
    private readonly respawn: () => Promise<WorkerThread>,
  ) {}

  async run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>> {
    if (this.thread.exited) this.thread = await this.respawn();
    return this.thread.run(inputs, outputs);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** One onnxruntime session in its own worker thread; runs one request at a time. */
class WorkerThread {
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: WorkerTensor[]) => void; reject: (e: Error) => void }
  >();
  exited: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly RawMetadata[],
    readonly outputs: readonly RawMetadata[],
  ) {
    worker.on('message', (msg: { type: string; id: number; results?: WorkerTensor[]; message?: string }) => {
      const waiter = this.waiting.get(msg.id);
      if (!waiter) return;
      this.waiting.delete(msg.id);
      if (msg.type === 'result') waiter.resolve(msg.results!);
      else waiter.reject(new Error(msg.message));
    });
    const fail = (error: Error) => {
      this.exited = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`onnxruntime worker exited (code ${code})`)));
  }

  static start(path: string, bytes: Uint8Array, options: object): Promise<WorkerThread> {
    const model = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ortPath: ORT_PATH, model, options },
    });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(serveError('FERRY_SERVE_LOAD', { path, reason: error.message.split('\n')[0]! }));
      worker.once('error', onError);
      worker.once(
        'message',
        (msg: { type: string; message?: string; inputs: RawMetadata[]; outputs: RawMetadata[] }) => {
          worker.off('error', onError);
          if (msg.type === 'ready') resolve(new WorkerThread(worker, msg.inputs, msg.outputs));
          else {
            void worker.terminate();
            reject(serveError('FERRY_SERVE_LOAD', { path, reason: msg.message ?? 'unknown error' }));
          }
        },
      );
    });
  }

  run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>> {
    if (this.exited) return Promise.reject(this.exited);
    const feeds: WorkerTensor[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of inputs) {
      const dims = [...tensor.shape];
      if (tensor.datatype === 'BYTES') {
        feeds.push({ name, type: 'string', dims, data: tensor.strings.map((s) => utf8.decode(s)) });
        continue;
      }
      const Ctor = ARRAYS[tensor.datatype];
      const type = TO_ORT[tensor.datatype];
      if (!Ctor || !type)
        return Promise.reject(new Error(`onnxruntime-node cannot carry ${tensor.datatype} tensors`));
      // the worker must own what it is sent: a batch's joined input moves as it is; a request's
      // own view (a batch of one) may share a larger body buffer, so it goes as an exact copy
      const own = ownedByBatch(tensor.bytes) ? tensor.bytes : new Uint8Array(tensor.bytes);
      transfer.push(own.buffer as ArrayBuffer);
      feeds.push({
        name,
        type,
        dims,
        data: new Ctor(own.buffer as ArrayBuffer, 0, own.byteLength / Ctor.BYTES_PER_ELEMENT),
      });
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (results) => {
          const out = new Map<string, Tensor>();
          for (const r of results) out.set(r.name, fromWorker(r));
          resolve(out);
        },
        reject,
      });
      this.worker.postMessage({ type: 'run', id, feeds, outputs }, transfer);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'close' });
    await exited;
  }
}

function fromWorker(value: WorkerTensor): Tensor {
  const datatype = FROM_ORT.get(value.type);
  if (!datatype)
    throw new Error(`onnxruntime returned a ${value.type} tensor, which the protocol cannot carry`);
  const shape = [...value.dims];
  if (datatype === 'BYTES')
    return { datatype, shape, strings: (value.data as string[]).map((s) => utf8Encoder.encode(s)) };
  const data = value.data as ArrayBufferView;
  return { datatype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
