import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../../scripts/test/zip-builder.js';
import { RegistryClient } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const MiB = 1024 * 1024;

/**
 * A PyTorch-style zip whose `archive/data.pkl` is an honest deflate stream of 1 GiB (about 1 MiB
 * on disk, under deflate's own ceiling): a pickle whose BINBYTES8 runs to the end, so a scanner
 * that reads the member whole inflates all of it (issue #24.5: 4 GB of RSS in a registry commit).
 */
function honestBomb(): Buffer {
  const total = 1024 * MiB;
  const head = Buffer.alloc(11);
  head.set([0x80, 4, 0x8e]); // PROTO 4, BINBYTES8
  head.writeBigUInt64LE(BigInt(total - 12), 3);
  const first = Buffer.concat([head, Buffer.alloc(MiB - 11)]);
  const last = Buffer.alloc(MiB);
  last[MiB - 1] = 0x2e; // STOP
  const sync = { finishFlush: constants.Z_SYNC_FLUSH };
  const zeroBlock = deflateRawSync(Buffer.alloc(MiB), sync);
  const body = Buffer.concat([
    deflateRawSync(first, sync),
    ...Array.from({ length: 1022 }, () => zeroBlock),
    deflateRawSync(last),
  ]);
  return buildZip([
    { name: 'archive/data.pkl', data: new Uint8Array(0), method: 8, claimedSize: total, body },
  ]);
}

/** The commit-time scan inflates through the same bounded inflater as `ferry scan` (issue #24.5). */
describe.each(BACKENDS)('a decompression bomb pushed to the registry on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let work: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    work = await mkdtemp(join(tmpdir(), 'ferry-bomb-'));
    server = await startServer(backend);
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is stopped at the inflate budget: verdict error (FERRY_LIMIT), memory bounded, server answering', async ({
    skip,
  }) => {
    if (!backend) skip();
    const dir = join(work, 'bomb');
    await mkdir(dir);
    await writeFile(join(dir, 'model.pt'), honestBomb());
    const admin = new RegistryClient({ url: server.url, token: server.adminToken! });
    const before = process.memoryUsage().rss;
    const version = await admin.push(dir, { model: 'bombs/honest' });
    // The registry runs in this process: the commit's scan must not have held the gigabyte.
    expect(process.memoryUsage().rss - before).toBeLessThan(512 * MiB);
    expect(version.scan).toBe('error');
    expect(version.scanDetail).toBe('model.pt: error (FERRY_LIMIT)');
    expect((await fetch(`${server.url}/api/v1/models`)).status).toBe(200);
  });
});
