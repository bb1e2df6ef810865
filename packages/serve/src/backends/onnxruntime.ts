import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { serveError } from '../errors.js';
import { recycleBatchBuffer, type Tensor } from '@ferry/serving-api';
import type { Backend, BackendOptions, LoadedModel, ModelInstance, TensorMetadata } from '@ferry/serving-api';
import { unknownRankTensors } from './onnx-unknown-rank.js';
import { EventLoopInstance } from './onnxruntime-event-loop.js';
import { FROM_ORT, fromOrtData, type OrtTensorData, toOrtData, utf8 } from './onnxruntime-tensors.js';
import { WORKER_SOURCE } from './onnxruntime-worker-source.js';

const ORT_PATH = createRequire(import.meta.url).resolve('onnxruntime-node');

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
    const unknownRank = unknownRankTensors(bytes);
    const describe = (list: readonly RawMetadata[], kind: 'input' | 'output'): TensorMetadata[] =>
      list.map((meta) => {
        const datatype = meta.isTensor && meta.type ? FROM_ORT.get(meta.type) : undefined;
        if (!datatype)
          throw serveError('FERRY_SERVE_LOAD', {
            path,
            reason: `${kind} ${meta.name} is ${meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor'}, which the protocol cannot carry`,
          });
        if (unknownRank[`${kind}s`].has(meta.name))
          return { name: meta.name, datatype, shape: [-1], anyRank: true };
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
        modelBytes: bytes.byteLength,
        // a run this small gains nothing from a thread pool but pays its wake-ups (20 µs instead
        // of 8 for the small MLP at batch 1): one thread unless config.yaml names a count
        createEventLoopInstance: () =>
          EventLoopInstance.create(bytes, { intraOpNumThreads: 1, ...sessionOptions }),
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

/** A worker's answer to a run: its outputs, or why it failed, and the input buffers it gives back. */
interface WorkerAnswer {
  type: string;
  id: number;
  results?: OrtTensorData[];
  inputs?: ArrayBuffer[];
  message?: string;
}

/** One onnxruntime session in its own worker thread; runs one request at a time. */
class WorkerThread {
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: OrtTensorData[]) => void; reject: (e: Error) => void }
  >();
  exited: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly RawMetadata[],
    readonly outputs: readonly RawMetadata[],
  ) {
    worker.on('message', (msg: WorkerAnswer) => {
      // the run's input buffers, moved back: only this thread holds them now
      if (msg.inputs) for (const buffer of msg.inputs) recycleBatchBuffer(buffer);
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
    const feeds: OrtTensorData[] = [];
    const transfer: ArrayBuffer[] = [];
    try {
      for (const [name, tensor] of inputs) {
        // the worker must own what it is sent (see toOrtData)
        const feed = toOrtData(name, tensor, 'own');
        feeds.push(feed);
        if (!Array.isArray(feed.data)) transfer.push(feed.data.buffer as ArrayBuffer);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (results) => {
          const out = new Map<string, Tensor>();
          for (const r of results) out.set(r.name, fromOrtData(r));
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
