import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SCRATCH_HEARTBEAT_MS, SCRATCH_STALE_MS } from '../limits.js';

/**
 * One registry server's scratch folder: whole-file uploads spooled while they are chunked, and
 * version files laid out for inspect/scan/diff. A kill -9 leaves it behind (os.tmpdir() kept
 * `ferry-spool-*` files and `ferry-ui-*` folders forever), so each server gets its own folder
 * under a root in the registry's data folder, named after its process, and the folders of
 * processes that are gone are removed. Servers sharing one data folder never remove each other's
 * live files:
 * - a folder whose process this process can see (same host, same boot, same pid namespace) is
 *   removed as soon as no process runs with its pid and the start time its name records (a pid
 *   given again has another start time);
 * - any other folder (another container's pid namespace, another host on a shared disk, a start
 *   before a reboot, no /proc) is removed only when its heartbeat, the folder's mtime, which its
 *   server touches every SCRATCH_HEARTBEAT_MS, is older than SCRATCH_STALE_MS.
 */
export interface ProcessScratch {
  /** This server's folder (created). */
  readonly dir: string;
  /** The folders the start's sweep removed. */
  readonly swept: readonly string[];
  /** Stops the heartbeat and removes this server's folder (a clean stop). */
  close(): Promise<void>;
}

export interface ScratchOptions {
  /** Heartbeat and sweep period (default SCRATCH_HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
  /** A folder whose process cannot be looked up is gone once its heartbeat is this old. */
  readonly staleMs?: number;
  /** The clock, in ms (tests). */
  readonly now?: () => number;
}

/**
 * `HOST_PID_STAMP_ID`: the host limited to characters every file system keeps; STAMP is
 * `BOOT.PIDNS.TICKS` (or `tMS` without /proc); ID tells apart two servers of one process.
 */
const NAME = /^([A-Za-z0-9.-]+)_(\d+)_([A-Za-z0-9.]+)_[0-9a-f]{8}$/;
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';

/**
 * Which processes this one can look up in /proc: the boot (a pid and a tick count repeat after a
 * reboot) and the pid namespace (a container sees other pids). Undefined without /proc.
 */
async function procView(): Promise<string | undefined> {
  try {
    const [boot, ns] = await Promise.all([
      readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
      readlink('/proc/self/ns/pid'),
    ]);
    const inode = /\[(\d+)\]/.exec(ns)?.[1];
    return inode && `${boot.trim().replace(/-/g, '').slice(0, 12)}.${inode}`;
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (/proc/PID/stat field 22; proc(5)), or
 * undefined when it does not run (no such pid, or a zombie: killed, not yet reaped).
 */
export async function startTicks(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // ESRCH: it exited between the open and the read.
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
  // The command name (field 2) may hold spaces and parentheses: fields 3.. follow its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const start = fields[22 - 3];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error(`/proc/${pid}/stat: no start time`);
  return start;
}

/** A new folder name for a server of this process. */
async function ownName(view: string | undefined): Promise<string> {
  const ticks = view && (await startTicks(process.pid));
  const stamp = ticks ? `${view}.${ticks}` : `t${Math.round(performance.timeOrigin)}`;
  return `${HOST}_${process.pid}_${stamp}_${randomUUID().slice(0, 8)}`;
}

/**
 * Removes the folders under `root` whose process is gone (see ProcessScratch); names the
 * registry did not make are left alone. Returns the names removed.
 */
export async function sweepScratch(root: string, options: ScratchOptions = {}): Promise<string[]> {
  const staleMs = options.staleMs ?? SCRATCH_STALE_MS;
  const now = options.now ?? Date.now;
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const view = await procView();
  const removed: string[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (!match) continue;
    const [, host, pid, stamp] = match as unknown as [string, string, string, string];
    const path = join(root, name);
    let gone: boolean;
    if (view && host === HOST && stamp.startsWith(`${view}.`))
      gone = (await startTicks(Number(pid))) !== stamp.slice(view.length + 1);
    else {
      const beat = await stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      gone = beat !== undefined && now() - beat > staleMs;
    }
    if (!gone) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Not ours to remove (another user's, a read-only mount): left, not a reason to stop.
    }
  }
  return removed;
}

/**
 * Sweeps `root`, makes this server's folder in it, and from then on touches the folder's mtime
 * (its heartbeat) and sweeps again every heartbeatMs, so folders judged by their heartbeat go too.
 */
export async function openProcessScratch(
  root: string,
  options: ScratchOptions = {},
): Promise<ProcessScratch> {
  const now = options.now ?? Date.now;
  const swept = await sweepScratch(root, options);
  const dir = join(root, await ownName(await procView()));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      const time = new Date(now());
      await utimes(dir, time, time).catch(() => undefined);
      await sweepScratch(root, options).catch(() => undefined);
    });
  }, options.heartbeatMs ?? SCRATCH_HEARTBEAT_MS);
  timer.unref();
  return {
    dir,
    swept,
    async close() {
      clearInterval(timer);
      await running;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
