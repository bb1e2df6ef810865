import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';
import { openProcessScratch, startTicks, sweepScratch } from '../src/store/process-scratch.js';

const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '-');
const HOUR = 60 * 60 * 1000;
const linux = process.platform === 'linux';

/** A real process that sleeps until killed. */
function sleeper() {
  const child = track(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid!,
    stop: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** This process's `BOOT.PIDNS`, as the folder names record it. */
async function view(): Promise<string> {
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim().replace(/-/g, '');
  const ns = /\[(\d+)\]/.exec(await readlink('/proc/self/ns/pid'))![1];
  return `${boot.slice(0, 12)}.${ns}`;
}

/**
 * The per-server scratch folders of store/process-scratch.ts, judged against real processes: a
 * folder is removed only when its process is gone, its pid now belongs to another process, or
 * (where its process cannot be looked up) its heartbeat stopped an hour ago.
 */
describe('process scratch folders', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ferry-scratch-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const folder = async (name: string, beatAgoMs = 0) => {
    await mkdir(join(root, name, 'version-x'), { recursive: true });
    await writeFile(join(root, name, 'ferry-spool-1'), 'partial upload');
    const beat = new Date(Date.now() - beatAgoMs);
    await utimes(join(root, name), beat, beat);
    return name;
  };
  const left = async () => (await readdir(root)).sort();

  it.runIf(linux)('reads a process’s start time: the same while it runs, none once it exits', async () => {
    const own = await startTicks(process.pid);
    expect(own).toMatch(/^\d+$/);
    expect(await startTicks(process.pid)).toBe(own);
    const child = sleeper();
    expect(await startTicks(child.pid)).toMatch(/^\d+$/);
    await child.stop();
    expect(await startTicks(child.pid)).toBeUndefined();
  });

  it.runIf(linux)(
    'removes at once the folders of dead processes and of reused pids; keeps live ones',
    async () => {
      const here = await view();
      const live = sleeper();
      const dead = sleeper();
      const liveTicks = await startTicks(live.pid);
      const deadTicks = await startTicks(dead.pid);
      await dead.stop();
      const keepLive = await folder(`${HOST}_${live.pid}_${here}.${liveTicks}_0123abcd`);
      const gone = await folder(`${HOST}_${dead.pid}_${here}.${deadTicks}_0123abcd`);
      // The live pid with another start time: an earlier process whose pid was given again.
      const reused = await folder(`${HOST}_${live.pid}_${here}.1_0123abcd`);
      const notOurs = await folder('keep-me', 2 * HOUR);

      expect((await sweepScratch(root)).sort()).toEqual([gone, reused].sort());
      expect(await left()).toEqual([keepLive, notOurs].sort());

      await live.stop();
      expect(await sweepScratch(root)).toEqual([keepLive]);
      expect(await left()).toEqual([notOurs]);
      await rm(join(root, notOurs), { recursive: true });
    },
  );

  it('judges folders it cannot look up (other host, pid namespace or boot) by their heartbeat', async () => {
    // This boot with another pid namespace (a container beside this one), or an earlier boot.
    const boot = linux ? (await view()).split('.')[0] : 'aaaaaaaaaaaa';
    const names = {
      otherHostLive: await folder(`${HOST}x_1_000000000000.1.5_0123abcd`, 10 * 60 * 1000),
      otherHostDead: await folder(`${HOST}x_1_000000000000.1.5_4567abcd`, 2 * HOUR),
      otherNamespaceLive: await folder(`${HOST}_1_${boot}.1.5_89abcdef`),
      otherNamespaceDead: await folder(`${HOST}_2_${boot}.1.5_89abcdef`, 2 * HOUR),
      earlierBootDead: await folder(`${HOST}_${process.pid}_000000000000.1.5_89abcdef`, 2 * HOUR),
      noProcLive: await folder(`${HOST}_3_t1700000000000_0123abcd`, 30 * 60 * 1000),
    };
    expect((await sweepScratch(root)).sort()).toEqual(
      [names.otherHostDead, names.otherNamespaceDead, names.earlierBootDead].sort(),
    );
    expect(await left()).toEqual([names.otherHostLive, names.otherNamespaceLive, names.noProcLive].sort());
    // An hour and a bit later without a beat, they are gone too.
    expect((await sweepScratch(root, { now: () => Date.now() + HOUR + 60_000 })).length).toBe(3);
    expect(await left()).toEqual([]);
  });

  it('gives each server of one process its own folder, which its close removes, and keeps it beating', async () => {
    const a = await openProcessScratch(root, { heartbeatMs: 50 });
    const b = await openProcessScratch(root);
    expect(a.dir).not.toBe(b.dir);
    await writeFile(join(a.dir, 'ferry-spool-a'), 'a');
    await writeFile(join(b.dir, 'ferry-spool-b'), 'b');
    expect(await sweepScratch(root)).toEqual([]);
    // a's heartbeat: its folder's mtime moves on though nothing is written in it
    const old = new Date(Date.now() - 2 * HOUR);
    await utimes(a.dir, old, old);
    await expect
      .poll(async () => Date.now() - (await stat(a.dir)).mtimeMs, { timeout: 5000 })
      .toBeLessThan(HOUR);
    expect(await sweepScratch(root, { now: () => Date.now() + 2 * HOUR })).toEqual(
      linux ? [] : [a.dir, b.dir].map((d) => d.slice(root.length + 1)),
    );
    await a.close();
    if (linux) {
      expect(await readdir(root)).toEqual([b.dir.slice(root.length + 1)]);
      expect(await readdir(b.dir)).toEqual(['ferry-spool-b']);
    }
    await b.close();
    expect(await readdir(root)).toEqual([]);
  });

  it('sweeps nothing when the root does not exist yet', async () => {
    expect(await sweepScratch(join(root, 'absent'))).toEqual([]);
  });
});
