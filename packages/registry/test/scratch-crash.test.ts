import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from './harness.helper.js';
import { type FerryProcess, spawnRegistry } from './processes.helper.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

/** A whole-file PUT of `data` that sends its first `head` bytes and waits for `finish()`. */
function slowUpload(url: string, data: Buffer, head: number) {
  const digest = createHash('sha256').update(data).digest('hex');
  const req = request(`${url}/api/v1/blobs/sha256:${digest}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    // The server is killed under it: the request fails, which is expected there.
    req.once('error', reject);
  });
  answered.catch(() => undefined);
  req.write(data.subarray(0, head));
  return {
    digest,
    answered,
    finish: () => req.end(data.subarray(head)),
  };
}

/**
 * kill -9 of `ferry registry serve` in the middle of a whole-file upload leaves its spool file in
 * its own scratch folder (DATA/tmp/HOST_PID_STAMP_ID); the next start removes that folder, and the
 * spool of a second server that still runs on the same backend and data folder is not touched
 * (store/process-scratch.ts).
 */
describe.each(BACKENDS)('scratch files after kill -9 on $name', (spec) => {
  let backend: Backend | undefined;
  const servers: FerryProcess[] = [];

  beforeAll(async () => {
    backend = await spec.open();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    await backend?.cleanup();
  });

  const serve = async () => {
    const server = await spawnRegistry([...backend!.cliArgs, '--auth', 'none']);
    servers.push(server);
    return server;
  };
  const root = () => join(backend!.serveArgs.data, 'tmp');
  /** The scratch folder of a server process (its name carries the pid). */
  const folderOf = async (server: FerryProcess) => {
    const names = await readdir(root());
    const mine = names.filter((n) => n.split('_')[1] === String(server.child.pid));
    expect(mine).toHaveLength(1);
    return join(root(), mine[0]!);
  };
  /** Waits until a spool file in `dir` holds at least `bytes`, and returns its path. */
  const spooled = async (dir: string, bytes: number) => {
    for (let i = 0; i < 400; i++) {
      const spool = (await readdir(dir)).find((n) => n.startsWith('ferry-spool-'));
      if (spool && (await stat(join(dir, spool))).size >= bytes) return join(dir, spool);
      await sleep(25);
    }
    throw new Error(`no spool file of ${bytes} bytes in ${dir}`);
  };

  it('the next start removes a killed server’s spool and leaves a live server’s alone', async ({ skip }) => {
    if (!backend) skip();
    const killed = await serve();
    const live = await serve();
    const killedDir = await folderOf(killed);
    const liveDir = await folderOf(live);

    // 9 MiB sent of 16: the spool writes whole 4 MiB buffers (STREAM_WRITE_BYTES), so 8 MiB land.
    const a = slowUpload(killed.url, randomBytes(16 * MiB), 9 * MiB);
    const bData = randomBytes(16 * MiB);
    const b = slowUpload(live.url, bData, 9 * MiB);
    const killedSpool = await spooled(killedDir, 8 * MiB);
    const liveSpool = await spooled(liveDir, 8 * MiB);

    await killed.stop('SIGKILL');
    await expect(a.answered).rejects.toThrow();
    // What kill -9 leaves: the half-written spool file, which nothing else would ever remove.
    expect((await stat(killedSpool)).size).toBe(8 * MiB);

    const next = await serve();
    const names = await readdir(root());
    expect(names).not.toContain(killedDir.slice(root().length + 1));
    expect(names.sort()).toEqual(
      [liveDir, await folderOf(next)].map((d) => d.slice(root().length + 1)).sort(),
    );
    // The live upload's spool is where it was, and the upload completes.
    expect((await stat(liveSpool)).size).toBe(8 * MiB);
    b.finish();
    expect(await b.answered).toBe(201);
    const head = await fetch(`${next.url}/api/v1/blobs/sha256:${b.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-ferry-size')).toBe(String(bData.length));
    expect(await readdir(liveDir)).toEqual([]);

    // A clean stop removes the server's own folder.
    await live.stop();
    await next.stop();
    expect(await readdir(root())).toEqual([]);
  }, 120_000);
});
