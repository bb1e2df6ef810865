import type { ModelInstance, TensorMetadata } from '@ferry/serving-api';
import { type ServeError, serveError } from '../errors.js';
import { concatRows, sliceRows, type Tensor } from '@ferry/serving-api';
import type { CancelSignal } from './cancellation.js';
import type { BatchingPolicy, SchedulerObserver } from './policy.js';

export interface BatchRequest {
  /** Validated inputs, one per model input. */
  readonly inputs: ReadonlyMap<string, Tensor>;
  /** Rows along dimension 0 (1 when the model does not batch). */
  readonly rows: number;
  /** Overrides the policy's default timeout; 0 = none. */
  readonly timeoutUs?: number;
  /** Aborts while queued when the client goes away. */
  readonly signal?: CancelSignal;
}

/** The longest a batch waits for the rows just answered to come back (expectReturning). */
const MAX_RETURN_WAIT_MS = 5;

interface Pending {
  readonly request: BatchRequest;
  /** Requests with the same key have equal non-batch dimensions and may share a batch. */
  readonly key: string;
  readonly enqueuedAt: number;
  readonly resolve: (outputs: Map<string, Tensor>) => void;
  readonly reject: (error: ServeError) => void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

/**
 * The dynamic batcher and instance pool of one model version. Requests queue in arrival order;
 * whenever an instance is idle, the oldest request is grouped with later ones of the same
 * non-batch shape up to max_batch_size, waiting at most max_queue_delay for more, then run as one
 * execution whose outputs are split back by row. The queue is bounded: when full, submit()
 * rejects at once (503). Timed-out and cancelled requests leave the queue without running.
 */
export class Batcher {
  private readonly queue: Pending[] = [];
  private readonly idle: ModelInstance[];
  private running = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  private turnEnd: NodeJS.Immediate | undefined;
  private closing = false;
  private drained: (() => void) | undefined;
  /**
   * After an execution answered `rows` rows with max_queue_delay_us 0: the batch to form next is
   * the rows queued then plus those rows coming back (closed-loop clients send their next request
   * on the answer), until `until`. Without it 64 clients split into two groups of ~32 that take
   * turns (one runs while the other queues) and never merge: on one core that doubles ONNX
   * Runtime's CPU per row's overhead (BENCHMARKS.md, serve-pinned: 137 µs/row at 32, 107 at 64)
   * and buys no overlap, the loop and the runtime sharing the core anyway.
   */
  private returning: { target: number; until: number } | undefined;
  /** Rows in the queue, kept as requests come and go (the wait above checks it every turn). */
  private queuedRows = 0;

  constructor(
    private readonly label: { model: string; version: string },
    private readonly inputs: readonly TensorMetadata[],
    private readonly outputs: readonly TensorMetadata[],
    private readonly policy: BatchingPolicy,
    private readonly instances: readonly ModelInstance[],
    private readonly observer: SchedulerObserver,
  ) {
    this.idle = [...instances];
  }

  /** Requests waiting in the queue. */
  get pending(): number {
    return this.queue.length;
  }

  /** Executions in progress (at most one per instance). */
  get executing(): number {
    return this.running;
  }

  submit(request: BatchRequest): Promise<Map<string, Tensor>> {
    if (this.closing) return Promise.reject(serveError('FERRY_SERVE_SHUTTING_DOWN'));
    if (this.queue.length >= this.policy.maxQueueSize)
      return Promise.reject(
        serveError('FERRY_SERVE_OVERLOADED', { ...this.label, limit: this.policy.maxQueueSize }),
      );
    if (request.signal?.aborted) return Promise.reject(serveError('FERRY_SERVE_CANCELLED', this.label));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        request,
        key: this.keyOf(request),
        enqueuedAt: performance.now(),
        resolve,
        reject,
      };
      const timeoutUs = request.timeoutUs ?? this.policy.defaultTimeoutUs;
      if (timeoutUs > 0)
        pending.timer = setTimeout(
          () => this.leave(pending, serveError('FERRY_SERVE_TIMEOUT', { ...this.label, us: timeoutUs })),
          Math.max(1, Math.ceil(timeoutUs / 1000)),
        );
      if (request.signal) {
        pending.onAbort = () => this.leave(pending, serveError('FERRY_SERVE_CANCELLED', this.label));
        request.signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.queuedRows += request.rows;
      this.observer.pendingChanged(this.queue.length);
      this.pumpAtTurnEnd();
    });
  }

  /**
   * A new request is dispatched at the end of this turn of the event loop (setImmediate), not at
   * once: requests whose bytes arrived in the same poll of the sockets then share a batch, where
   * dispatching the first at once ran it alone while the rest queued behind it. The wait is the
   * rest of one turn (microseconds), and it is what makes max_queue_delay_us: 0 batch whatever
   * arrived together, as Triton's dynamic batcher does.
   */
  private pumpAtTurnEnd(): void {
    if (this.turnEnd) return;
    this.turnEnd = setImmediate(() => {
      this.turnEnd = undefined;
      this.pump();
    });
  }

  /** Stops taking requests and resolves when every queued and running request has finished. */
  drain(): Promise<void> {
    this.closing = true;
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  /** Drains, then releases the instances. */
  async close(): Promise<void> {
    await this.drain();
    clearTimeout(this.waitTimer);
    clearImmediate(this.turnEnd);
    await Promise.all(this.instances.map((instance) => instance.close()));
  }

  private keyOf(request: BatchRequest): string {
    if (this.policy.maxBatchSize === 0) return '';
    let key = '';
    for (let i = 0; i < this.inputs.length; i++) {
      const shape = request.inputs.get(this.inputs[i]!.name)!.shape;
      if (i > 0) key += ';';
      for (let k = 1; k < shape.length; k++) key += k > 1 ? `,${shape[k]}` : `${shape[k]}`;
    }
    return key;
  }

  /** Removes a request that is still queued (timeout, disconnect) and fails it. */
  private leave(pending: Pending, error: ServeError): void {
    const index = this.queue.indexOf(pending);
    if (index < 0) return; // already running: it finishes normally
    this.queue.splice(index, 1);
    this.queuedRows -= pending.request.rows;
    this.release(pending);
    this.observer.pendingChanged(this.queue.length);
    pending.reject(error);
    this.checkDrained();
  }

  private release(pending: Pending): void {
    clearTimeout(pending.timer);
    if (pending.onAbort) pending.request.signal?.removeEventListener('abort', pending.onAbort);
  }

  private pump(): void {
    if (this.waitingForReturning()) return;
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    while (this.idle.length > 0 && this.queue.length > 0) {
      const batch = this.takeBatch();
      if (!batch) return;
      void this.execute(this.idle.pop()!, batch);
    }
  }

  /** The next batch to run now, or undefined (with a timer armed) when it should wait for more. */
  private takeBatch(): Pending[] | undefined {
    const head = this.queue[0]!;
    const max = this.policy.maxBatchSize;
    if (max === 0) {
      this.queue.shift();
      this.queuedRows -= head.request.rows;
      this.observer.pendingChanged(this.queue.length);
      return [head];
    }
    const picked: number[] = [];
    const sums: number[] = [];
    let rows = 0;
    let full = false;
    for (let i = 0; i < this.queue.length; i++) {
      const pending = this.queue[i]!;
      if (pending.key !== head.key) continue;
      if (rows + pending.request.rows > max) {
        full = true; // the next compatible request does not fit: this batch is as big as it gets
        break;
      }
      rows += pending.request.rows;
      picked.push(i);
      sums.push(rows);
      if (rows === max) {
        full = true;
        break;
      }
    }
    const preferred = this.policy.preferredBatchSizes;
    const largestPreferred = preferred.length > 0 ? Math.max(...preferred) : undefined;
    const waitedUs = (performance.now() - head.enqueuedAt) * 1000;
    const ready = full || waitedUs >= this.policy.maxQueueDelayUs || rows === largestPreferred;
    if (!ready) {
      const remainingMs = (this.policy.maxQueueDelayUs - waitedUs) / 1000;
      this.waitTimer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(remainingMs)));
      return undefined;
    }
    // prefer the longest prefix whose size is a preferred batch size; otherwise take them all
    let take = picked.length;
    if (preferred.length > 0) {
      for (let k = picked.length; k > 0; k--)
        if (preferred.includes(sums[k - 1]!)) {
          take = k;
          break;
        }
    }
    const chosen = picked.slice(0, take);
    const batch = chosen.map((i) => this.queue[i]!);
    for (let k = chosen.length - 1; k >= 0; k--) this.queue.splice(chosen[k]!, 1);
    for (const pending of batch) this.queuedRows -= pending.request.rows;
    this.observer.pendingChanged(this.queue.length);
    return batch;
  }

  private async execute(instance: ModelInstance, batch: Pending[]): Promise<void> {
    this.running++;
    const started = performance.now();
    for (const pending of batch) {
      this.release(pending);
      this.observer.queued((started - pending.enqueuedAt) / 1000);
    }
    const rows = batch.reduce((sum, p) => sum + p.request.rows, 0);
    try {
      const inputs = new Map<string, Tensor>();
      for (const meta of this.inputs)
        inputs.set(
          meta.name,
          concatRows(
            meta.datatype,
            batch.map((p) => p.request.inputs.get(meta.name)!),
          ),
        );
      const names = this.outputs.map((o) => o.name);
      const results = await instance.run(inputs, names);
      this.observer.executed(rows, batch.length, (performance.now() - started) / 1000);
      if (batch.length === 1) batch[0]!.resolve(results);
      else this.split(batch, results, rows);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      for (const pending of batch)
        pending.reject(
          (error as ServeError).code
            ? (error as ServeError)
            : serveError('FERRY_SERVE_EXECUTION', { ...this.label, reason }, error),
        );
    } finally {
      this.running--;
      this.idle.push(instance);
      this.expectReturning(rows, performance.now() - started);
      this.pump();
      this.checkDrained();
    }
  }

  /**
   * True while the rows just answered may still come back (expectReturning): a timer is armed for
   * the end of that wait, once; each turn's new requests check again, without scanning the queue.
   */
  private waitingForReturning(): boolean {
    const returning = this.returning;
    if (!returning || this.idle.length === 0 || this.queue.length === 0) return false;
    const now = performance.now();
    if (this.queuedRows >= returning.target || now >= returning.until) {
      this.returning = undefined;
      return false;
    }
    this.waitTimer ??= setTimeout(
      () => {
        this.waitTimer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(returning.until - now)),
    );
    return true;
  }

  /**
   * With max_queue_delay_us 0 and a batch of several rows just answered: wait for those rows to
   * come back and join the queued ones, for at most as long as that execution took (capped at
   * MAX_RETURN_WAIT_MS), so the added wait is bounded by the work just done. One row answered
   * (a lone client, concurrency 1) sets no wait at all.
   */
  private expectReturning(rows: number, executionMs: number): void {
    if (this.policy.maxQueueDelayUs > 0 || this.policy.maxBatchSize === 0 || rows < 2 || this.closing) {
      this.returning = undefined;
      return;
    }
    this.returning = {
      target: Math.min(this.policy.maxBatchSize, this.queuedRows + rows),
      until: performance.now() + Math.min(MAX_RETURN_WAIT_MS, executionMs),
    };
  }

  private split(batch: Pending[], results: Map<string, Tensor>, rows: number): void {
    for (const [name, tensor] of results)
      if (tensor.shape[0] !== rows)
        throw serveError('FERRY_SERVE_EXECUTION', {
          ...this.label,
          reason: `output ${name} has ${tensor.shape[0]} rows for a batch of ${rows}; its first dimension is not a batch dimension (set max_batch_size: 0)`,
        });
    let from = 0;
    for (const pending of batch) {
      const to = from + pending.request.rows;
      const mine = new Map<string, Tensor>();
      for (const [name, tensor] of results) mine.set(name, sliceRows(tensor, from, to));
      pending.resolve(mine);
      from = to;
    }
  }

  private checkDrained(): void {
    if (this.closing && this.queue.length === 0 && this.running === 0 && this.drained) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }
}
