/**
 * CPU time of another process, read from Linux's /proc: the pinned serve benchmark measures the
 * server from outside it (the load generator reads it at the edges of its measured seconds), so the
 * server under test runs no measuring code of its own. utime + stime are fields 14 and 15 of
 * /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux for every architecture node runs on).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc's clock ticks per second (sysconf(_SC_CLK_TCK); fixed at 100 for user space). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime in ms from the text of a /proc/.../stat file (the command name may hold spaces). */
export function statCpuMs(stat: string): number {
  // fields after the ")" that closes the command name: state is field 3, so utime (14) is index 11
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`not a /proc stat line: ${stat.slice(0, 60)}`);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The process's CPU time so far (all its threads), in ms. */
export function processCpuMs(pid: number): number {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU ms of the process's main thread (its event loop, where node runs JavaScript), of all its
 * other threads together (worker threads such as ONNX Runtime's, V8's GC helpers, libuv's pool),
 * and of each thread by id. A thread that ends between two readings takes its time with it, so
 * compare threads that live through the run.
 */
export function threadCpuMs(pid: number): { main: number; others: number; threads: Map<number, number> } {
  let main = 0;
  let others = 0;
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let ms: number;
    try {
      ms = statCpuMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      continue; // the thread ended while the folder was read
    }
    threads.set(Number(tid), ms);
    if (Number(tid) === pid) main += ms;
    else others += ms;
  }
  return { main, others, threads };
}

/**
 * The CPU ms the busiest thread other than the main one used between two readings: in a ferry
 * server whose model runs in a worker thread, that thread (ONNX Runtime computes on it), the rest
 * of `others` being V8's GC helpers and libuv.
 */
export function busiestOtherMs(
  pid: number,
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let most = 0;
  for (const [tid, ms] of after) if (tid !== pid) most = Math.max(most, ms - (before.get(tid) ?? 0));
  return most;
}
