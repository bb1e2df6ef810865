import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';
import { openProcessScratch, processStamp, sweepScratch } from '../src/store/process-scratch.js';

const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '-');

/** A real process that sleeps until killed, and a promise of its exit. */
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

/**
 * The per-process scratch folders of store/process-scratch.ts, judged against real processes: a
 * folder is removed only when its process is gone or its pid now belongs to another process.
 */
describe('process scratch folders', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ferry-scratch-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const folder = async (name: string) => {
    await mkdir(join(root, name, 'version-x'), { recursive: true });
    await writeFile(join(root, name, 'ferry-spool-1'), 'partial upload');
    return name;
  };

  it.runIf(process.platform === 'linux')(
    'reads a process’s start stamp: the same while it runs, none once it exits',
    async () => {
      const own = await processStamp(process.pid);
      expect(own).toMatch(/^[0-9a-f]{12}\.\d+$/);
      expect(await processStamp(process.pid)).toBe(own);
      const child = sleeper();
      const stamp = await processStamp(child.pid);
      expect(stamp).toMatch(/^[0-9a-f]{12}\.\d+$/);
      await child.stop();
      expect(await processStamp(child.pid)).toBeUndefined();
    },
  );

  it('removes the folders of dead processes and of reused pids; keeps live ones, other hosts and other names', async () => {
    const live = sleeper();
    const dead = sleeper();
    const liveStamp = (await processStamp(live.pid)) ?? 'x';
    const deadStamp = (await processStamp(dead.pid)) ?? 'x';
    await dead.stop();
    const keepLive = await folder(`${HOST}_${live.pid}_${liveStamp}_0123abcd`);
    const gone = await folder(`${HOST}_${dead.pid}_${deadStamp}_0123abcd`);
    // The live pid with another start stamp: an earlier process whose pid was given again.
    const reused = await folder(`${HOST}_${live.pid}_000000000000.1_0123abcd`);
    const otherHost = await folder(`${HOST}x_${dead.pid}_${deadStamp}_0123abcd`);
    const notOurs = await folder('keep-me');

    const removed = await sweepScratch(root);
    expect(removed.sort()).toEqual((process.platform === 'linux' ? [gone, reused] : [gone]).sort());
    expect((await readdir(root)).sort()).toEqual(
      [keepLive, otherHost, notOurs, ...(process.platform === 'linux' ? [] : [reused])].sort(),
    );

    await live.stop();
    expect(await sweepScratch(root)).toEqual([keepLive]);
    await rm(join(root, otherHost), { recursive: true });
    await rm(join(root, notOurs), { recursive: true });
  });

  it('gives each server of one process its own folder, which its close removes, and a sweep keeps', async () => {
    const a = await openProcessScratch(root);
    const b = await openProcessScratch(root);
    expect(a.dir).not.toBe(b.dir);
    await writeFile(join(a.dir, 'ferry-spool-a'), 'a');
    await writeFile(join(b.dir, 'ferry-spool-b'), 'b');
    expect(await sweepScratch(root)).toEqual([]);
    await a.close();
    expect(await readdir(root)).toEqual([b.dir.slice(root.length + 1)]);
    expect(await readdir(b.dir)).toEqual(['ferry-spool-b']);
    await b.close();
    expect(await readdir(root)).toEqual([]);
  });

  it('sweeps nothing when the root does not exist yet', async () => {
    expect(await sweepScratch(join(root, 'absent'))).toEqual([]);
  });
});
