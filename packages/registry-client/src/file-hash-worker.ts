import { Worker } from 'node:worker_threads';

/**
 * A file's sha256 computed on another core: a worker thread reads the file itself (from the page
 * cache, a copy) and hashes it, so the main thread's own work (cutting and hashing chunks on push;
 * receiving and writing on pull) runs beside it instead of before or after it. On a 2-core machine
 * this halves the hashing time of a push and takes the whole-file hash off a pull's critical path.
 *
 * The file may still be growing: the worker hashes only the prefix it was told is written
 * (`advance`), so a pull can hash what it wrote while it receives the rest.
 */
export interface FileHash {
  /** The first `bytes` bytes of the file are final: hash up to there. */
  advance(bytes: number): void;
  /** The file is `size` bytes: its sha256 once all are hashed. */
  finish(size: number): Promise<string>;
  /** Stops the worker (a failed transfer). */
  cancel(): Promise<void>;
}

/**
 * Files below this size are hashed on the calling thread: starting a worker takes ~30 ms here
 * (measured: 34 ms a worker, loaded 2-core machine), the time sha256 takes for ~50 MiB, so a folder
 * of many small files would be slower with a worker each.
 */
export const ASIDE_MIN_BYTES = 16 * 1024 * 1024;

/** Hashes `path` on a worker thread; `whole`: the file is complete already (a push). */
export function hashFileAside(path: string, whole?: { size: number }): FileHash {
  // An eval'd CommonJS worker: no separate entry file to resolve from src/ (tests) or dist/. No
  // inherited flags: --input-type=module would make the script ESM (no require).
  const worker = new Worker(`(${hashWorkerMain.toString()})()`, {
    eval: true,
    execArgv: [],
    workerData: { path },
  });
  let settle: { resolve(sha: string): void; reject(error: Error): void } | undefined;
  let failure: Error | undefined;
  const result = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {}); // observed through finish()
  worker.on('message', (answer: { sha256?: string; error?: string }) =>
    answer.sha256 ? settle?.resolve(answer.sha256) : settle?.reject(new Error(answer.error)),
  );
  worker.on('error', (error) => {
    failure = error;
    settle?.reject(error);
  });
  worker.on('exit', () => settle?.reject(failure ?? new Error(`hashing ${path} stopped`)));
  if (whole) worker.postMessage({ end: whole.size });
  return {
    advance: (bytes) => worker.postMessage({ upTo: bytes }),
    finish: async (size) => {
      worker.postMessage({ end: size });
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
    cancel: async () => {
      await worker.terminate();
    },
  };
}

/**
 * The worker's body (runs as its own CommonJS script: no imports or closures from this module).
 * Reads with 4 MiB preads into one buffer: memory stays flat whatever the file's size.
 */
function hashWorkerMain(): void {
  const { parentPort, workerData } = require('node:worker_threads');
  const { openSync, readSync, closeSync } = require('node:fs');
  const { createHash } = require('node:crypto');
  const fd = openSync(workerData.path, 'r');
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  let at = 0;
  let target = 0;
  let end = -1;
  // Ends the worker itself, its file closed, on the digest or on the first error (a short file):
  // an exception left to kill the worker would leave the descriptor to the runtime's cleanup.
  // Messages already queued still arrive after the port is closed (finish() repeats the end a
  // push gave at the start): answered once.
  let answered = false;
  const done = (answer: { sha256: string } | { error: string }) => {
    answered = true;
    closeSync(fd);
    parentPort.postMessage(answer);
    parentPort.close();
  };
  parentPort.on('message', (m: { upTo?: number; end?: number }) => {
    if (answered) return;
    if (m.end !== undefined) end = m.end;
    target = Math.max(target, m.upTo ?? 0, end);
    try {
      while (at < target) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, target - at), at);
        if (n === 0) throw new Error(`${workerData.path} ended at byte ${at}, before ${target}`);
        hash.update(buffer.subarray(0, n));
        at += n;
      }
    } catch (error) {
      done({ error: (error as Error).message });
      return;
    }
    if (end >= 0 && at >= end) done({ sha256: hash.digest('hex') });
  });
}
