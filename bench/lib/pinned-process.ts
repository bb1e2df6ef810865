/**
 * Processes of the pinned serve benchmark: each started under `taskset -c CORE` (util-linux; the
 * kernel's sched_setaffinity for the process before it runs, inherited by every thread it starts:
 * node's event loop, its worker threads, V8's GC helpers, libuv's pool and ONNX Runtime's own),
 * its first stdout line read as JSON once it is ready.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);

/** The load generator's core and the server's: two different cores of a 2-core machine. */
export const LOAD_CORE = 0;
export const SERVER_CORE = 1;

/** The command line that runs `argv` on `core` only: taskset -c CORE ... */
export function pinnedCommand(core: number, argv: readonly string[]): [string, ...string[]] {
  return ['taskset', '-c', String(core), ...argv];
}

/** How long a server may take to load its models and print its ports. */
const READY_TIMEOUT_MS = 120_000;

export interface PinnedServer<T> {
  readonly pid: number;
  readonly ready: T;
  /** SIGTERM, and wait for the exit (a --cpu-prof profile is written by then). */
  stop(): Promise<void>;
}

/** `node ARGS` pinned to `core`, from the repository root; resolves once it prints its JSON line. */
export function startPinned<T>(core: number, nodeArgs: readonly string[]): Promise<PinnedServer<T>> {
  const [command, ...args] = pinnedCommand(core, [process.execPath, ...nodeArgs]);
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${nodeArgs.join(' ')}: not ready in ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${nodeArgs.join(' ')} exited (code ${code}) before it was ready`));
    };
    child.once('exit', early);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // lines before the JSON one (node's --trace-gc, say) and everything after it go to stderr
      let line = out.indexOf('\n');
      while (line >= 0 && !out.startsWith('{')) {
        process.stderr.write(out.slice(0, line + 1));
        out = out.slice(line + 1);
        line = out.indexOf('\n');
      }
      if (line < 0) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout!.removeAllListeners('data');
      process.stderr.write(out.slice(line + 1));
      child.stdout!.pipe(process.stderr);
      resolve({
        pid: child.pid!,
        ready: JSON.parse(out.slice(0, line)) as T,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** A pinned one-shot measuring script (`node ARGS` on `core`): its stdout parsed as JSON. */
export async function runPinned<T>(core: number, nodeArgs: readonly string[]): Promise<T> {
  const [command, ...args] = pinnedCommand(core, [process.execPath, ...nodeArgs]);
  const { stdout } = await exec(command, args, {
    cwd: ROOT,
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(stdout) as T;
}
