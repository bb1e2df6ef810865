import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Servers the tests start in their own processes (ferry up, ferry registry serve, ferry serve,
 * docker-registry) are tracked here, so that a failing test cannot leave them running: each one
 * is killed when the worker that started it exits, and the global teardown (global-setup.ts) kills
 * any still alive at the end of the run, from the PID files in $FERRY_TEST_PID_DIR.
 */
export const PID_DIR_ENV = 'FERRY_TEST_PID_DIR';

const live = new Set<ChildProcess>();
let hooked = false;

/**
 * The process's start time in clock ticks since boot (/proc/PID/stat field 22): with the PID it
 * names one process, so a teardown never kills an unrelated process that reused the PID.
 */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Records `child` (returned unchanged) until it exits. */
export function track<T extends ChildProcess>(child: T): T {
  const pid = child.pid;
  if (pid === undefined) return child;
  live.add(child);
  if (!hooked) {
    hooked = true;
    // a worker that ends (its test file done, or failed) takes its servers with it
    process.once('exit', () => {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  const dir = process.env[PID_DIR_ENV];
  const file = dir ? join(dir, String(pid)) : undefined;
  // line 1: the start time that identifies the process; line 2: what it was, for the teardown's report
  if (file) writeFileSync(file, `${startTime(pid) ?? ''}\n${child.spawnargs.join(' ').slice(0, 200)}\n`);
  child.once('exit', () => {
    live.delete(child);
    if (file) rmSync(file, { force: true });
  });
  return child;
}
