import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { serveError } from '../errors.js';
import { HANDLER_WORKER_SOURCE } from './handler-worker-source.js';

export type HandlerStage = 'preprocess' | 'postprocess';

/** Worker threads per handler: a handler is request-scoped JavaScript; 64 is far past any core count (CWE-770). */
export const MAX_HANDLER_THREADS = 64;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * A bundle handler module running in worker threads. Calls go to the thread with the fewest
 * calls in flight. A thread that dies (a handler calling process.exit, an uncaught error in a
 * timer) fails its calls with the reason and is replaced, so one bad request never takes the
 * server down.
 */
export class HandlerPool {
  private readonly threads: HandlerThread[] = [];
  private closed = false;

  private constructor(
    readonly module: string,
    readonly exports: { preprocess: boolean; postprocess: boolean },
  ) {}

  static async start(module: string, threads = 2): Promise<HandlerPool> {
    const count = Math.min(Math.max(1, threads), MAX_HANDLER_THREADS);
    const first = await HandlerThread.start(module);
    const pool = new HandlerPool(module, first.exports);
    pool.threads.push(first);
    for (let i = 1; i < count; i++) pool.threads.push(await HandlerThread.start(module));
    return pool;
  }

  has(stage: HandlerStage): boolean {
    return this.exports[stage];
  }

  async call(stage: HandlerStage, args: unknown[]): Promise<unknown> {
    if (this.closed) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
    let index = 0;
    for (let i = 1; i < this.threads.length; i++)
      if (this.threads[i]!.inFlight < this.threads[index]!.inFlight) index = i;
    let thread = this.threads[index]!;
    if (thread.dead) {
      thread = await HandlerThread.start(this.module);
      this.threads[index] = thread;
    }
    return thread.call(stage, args);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

class HandlerThread {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  dead = false;

  private constructor(
    private readonly worker: Worker,
    readonly exports: { preprocess: boolean; postprocess: boolean },
    private readonly module: string,
  ) {
    worker.on('message', (msg: { type: string; id: number; result?: unknown; message?: string }) => {
      const waiting = this.pending.get(msg.id);
      if (!waiting) return;
      this.pending.delete(msg.id);
      if (msg.type === 'result') waiting.resolve(msg.result);
      else
        waiting.reject(
          serveError('FERRY_SERVE_HANDLER', {
            module: basename(this.module),
            reason: msg.message ?? 'failed',
          }),
        );
    });
    const die = (reason: string) => {
      this.dead = true;
      for (const waiting of this.pending.values())
        waiting.reject(serveError('FERRY_SERVE_HANDLER', { module: basename(this.module), reason }));
      this.pending.clear();
    };
    worker.on('error', (error) => die(`the handler thread failed: ${error.message}`));
    worker.on('exit', (code) => die(`the handler thread exited with code ${code}`));
  }

  get inFlight(): number {
    return this.dead ? Number.POSITIVE_INFINITY : this.pending.size;
  }

  static start(module: string): Promise<HandlerThread> {
    const worker = new Worker(HANDLER_WORKER_SOURCE, {
      eval: true,
      workerData: { url: pathToFileURL(module).href },
    });
    return new Promise((resolve, reject) => {
      const fail = (reason: string) => {
        worker.terminate().catch(() => undefined);
        reject(serveError('FERRY_SERVE_LOAD', { path: module, reason: `handler: ${reason}` }));
      };
      worker.once(
        'message',
        (msg: { type: string; message?: string; preprocess?: boolean; postprocess?: boolean }) => {
          if (msg.type === 'ready')
            resolve(
              new HandlerThread(
                worker,
                { preprocess: msg.preprocess === true, postprocess: msg.postprocess === true },
                module,
              ),
            );
          else fail(msg.message ?? 'did not start');
        },
      );
      worker.once('error', (error) => fail(error.message));
    });
  }

  call(stage: HandlerStage, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ type: 'call', id, stage, args });
      } catch (error) {
        this.pending.delete(id);
        reject(serveError('FERRY_SERVE_HANDLER', { module: this.module, reason: (error as Error).message }));
      }
    });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.worker.postMessage({ type: 'close' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.worker.terminate().then(
          () => resolve(),
          () => resolve(),
        );
      }, 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
