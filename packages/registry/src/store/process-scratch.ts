import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One registry process's scratch folder: whole-file uploads spooled while they are chunked, and
 * version files laid out for inspect/scan/diff. A kill -9 leaves it behind (os.tmpdir() kept
 * `ferry-spool-*` files and `ferry-ui-*` folders forever), so each process gets its own folder
 * under a root in the registry's data folder, named after the process, and every start removes the
 * folders whose process is gone. Processes sharing one data folder never remove each other's live
 * files: a folder is removed only when its host is this host and its pid is not running with the
 * start stamp the name records (a reused pid has another start time).
 */
export interface ProcessScratch {
  /** This process's folder (created). */
  readonly dir: string;
  /** Removes this process's folder (a clean stop). */
  close(): Promise<void>;
}

/**
 * `HOST_PID_STAMP_ID`: the host limited to characters every file system keeps; ID tells apart two
 * servers one process runs (tests start several on one data folder).
 */
const NAME = /^([A-Za-z0-9.-]+)_(\d+)_([A-Za-z0-9.]+)_[0-9a-f]{8}$/;
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';

/**
 * When a process started, as the kernel records it: the boot id (a pid and a tick count repeat
 * after a reboot) and the start time in clock ticks since boot (/proc/PID/stat field 22; proc(5)).
 * Undefined when no such process runs. Without /proc (not Linux) the stamp is unknown: `null`,
 * and a running pid is then taken to be the folder's owner.
 */
export async function processStamp(pid: number): Promise<string | null | undefined> {
  let stat: string;
  let boot: string;
  try {
    [stat, boot] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
    ]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (await procMounted()) return undefined;
    return isRunning(pid) ? null : undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error(`/proc/${pid}/stat: no start time`);
  return `${boot.trim().replace(/-/g, '').slice(0, 12)}.${start}`;
}

let procKnown: boolean | undefined;
async function procMounted(): Promise<boolean> {
  procKnown ??= await readFile('/proc/self/stat', 'utf8').then(
    () => true,
    () => false,
  );
  return procKnown;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A new folder name of this process: `HOST_PID_STAMP_ID` (a time stamp where the kernel gives none). */
async function ownName(): Promise<string> {
  const stamp = (await processStamp(process.pid)) ?? `t${Math.round(performance.timeOrigin)}`;
  return `${HOST}_${process.pid}_${stamp}_${randomUUID().slice(0, 8)}`;
}

/**
 * Removes the folders under `root` left by processes of this host that no longer run; folders of
 * other hosts (a data folder on a shared disk) and names it did not make are left alone.
 * Returns the names removed.
 */
export async function sweepScratch(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (!match || match[1] !== HOST) continue;
    const live = await processStamp(Number(match[2]));
    // Running with the recorded start: the owner. Running where either side has no kernel stamp
    // (null, or a `t` time stamp): taken to be the owner, since nothing tells them apart.
    if (live === match[3] || live === null) continue;
    if (live !== undefined && match[3]!.startsWith('t')) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Sweeps `root`, then makes this process's folder in it. */
export async function openProcessScratch(root: string): Promise<ProcessScratch & { swept: string[] }> {
  const swept = await sweepScratch(root);
  const dir = join(root, await ownName());
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    swept,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
