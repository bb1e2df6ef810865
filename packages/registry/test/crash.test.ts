import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import { BACKENDS, type Backend } from './harness.helper.js';
import { type FerryProcess, spawnRegistry } from './processes.helper.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * kill -9 the server in the middle of an upload, a version commit and an alias move; after a
 * restart on the same backend: no corrupt blob, no half-visible version, the alias points to the
 * old or the new version, the upload resumes.
 */
describe.each(BACKENDS)('crash safety on $name', (spec) => {
  let backend: Backend | undefined;
  let server: FerryProcess | undefined;
  let work: string;
  let token: string;

  const start = async () => {
    // the previous test's restarted server would otherwise run on, unowned, to the end of the suite
    await server?.stop();
    server = await spawnRegistry([...backend!.cliArgs, '--admin-token-file', join(work, 'admin-token')]);
    token = (await readFile(join(work, 'admin-token'), 'utf8')).trim();
    return new RegistryClient({ url: server.url, token });
  };
  const crash = async () => {
    await server!.stop('SIGKILL');
    expect(server!.child.signalCode).toBe('SIGKILL');
  };

  beforeAll(async () => {
    backend = await spec.open();
    if (backend) work = await mkdtemp(join(tmpdir(), 'ferry-crash-'));
  });
  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('kill -9 during an upload: no corrupt blob, and the upload resumes after restart', async ({ skip }) => {
    if (!backend) skip();
    let client = await start();
    const data = Buffer.alloc(300_000).map((_, i) => (i * 11 + (i >> 8)) % 256);
    const headers = (offset: number) => ({
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'upload-offset': String(offset),
    });
    const { id } = (await (await client.request('POST', '/api/v1/uploads')).json()) as { id: string };
    const first = await fetch(`${server!.url}/api/v1/uploads/${id}`, {
      method: 'PATCH',
      body: data.subarray(0, 100_000),
      headers: headers(0),
    });
    expect(((await first.json()) as { offset: number }).offset).toBe(100_000);
    // The second chunk sends half its bytes, then stalls: the server dies mid-chunk.
    let stall: () => void = () => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(data.subarray(100_000, 150_000));
        stall = () => controller.error(new Error('client gave up'));
      },
    });
    const cut = fetch(`${server!.url}/api/v1/uploads/${id}`, {
      method: 'PATCH',
      body,
      headers: headers(100_000),
      duplex: 'half',
    } as RequestInit).catch((e: Error) => e);
    await sleep(300);
    await crash();
    stall();
    expect(await cut).toBeInstanceOf(Error);

    client = await start();
    const status = (await (await client.request('GET', `/api/v1/uploads/${id}`)).json()) as {
      offset: number;
    };
    // The folder store resumes at the last acknowledged chunk; an OCI registry's upload state is
    // signed with its offset, so a torn PATCH restarts that upload from 0.
    expect(backend!.name === 'sqlite+folder' ? [100_000] : [0, 100_000]).toContain(status.offset);
    expect(await client.blobExists(sha(data))).toBe(false);
    const rest = await fetch(`${server!.url}/api/v1/uploads/${id}`, {
      method: 'PATCH',
      body: data.subarray(status.offset),
      headers: headers(status.offset),
    });
    expect(((await rest.json()) as { offset: number }).offset).toBe(data.length);
    const done = await client.request(
      'PUT',
      `/api/v1/uploads/${id}?digest=sha256:${sha(data)}&size=${data.length}`,
    );
    expect(done.status).toBe(201);
    expect(await client.blobExists(sha(data))).toBe(true);
    if (backend!.name === 'sqlite+folder') {
      // Every stored blob's name is its content's sha256.
      const root = join(backend!.serveArgs.data, 'blobs', 'blobs', 'sha256');
      for (const dir of await readdir(root))
        for (const name of await readdir(join(root, dir)))
          expect(sha(await readFile(join(root, dir, name)))).toBe(name);
    }
  });

  it('kill -9 during a version commit: the version is pending (invisible) or ready, never half', async ({
    skip,
  }) => {
    if (!backend) skip();
    let client = await start();
    await client.createModel({ name: 'crash/many' });
    const files = Array.from({ length: 60 }, (_, i) => ({
      path: `shards/part-${String(i).padStart(4, '0')}.bin`,
      data: `shard ${i} of a crash test`,
    }));
    const { version } = await client.createVersion('crash/many', {
      files: files.map((f) => ({ path: f.path, sha256: sha(f.data), size: f.data.length })),
    });
    await Promise.all(
      files.map((f) =>
        client.request('PUT', `/api/v1/blobs/sha256:${sha(f.data)}`, {
          body: f.data,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      ),
    );
    const commit = client.commitVersion('crash/many', version.version).catch((e: Error) => e);
    await sleep(40);
    await crash();
    await commit;

    client = await start();
    const after = await client.getVersion('crash/many', version.version);
    expect(['pending', 'ready']).toContain(after.status);
    expect(after.files).toHaveLength(60);
    const listed = (await client.listVersions('crash/many')).map((v) => v.version);
    expect(listed).toEqual(after.status === 'ready' ? [version.version] : []);
    const ready = await client.commitVersion('crash/many', version.version);
    expect(ready.status).toBe('ready');
    expect((await client.listVersions('crash/many')).map((v) => v.version)).toEqual([version.version]);
  });

  it('kill -9 during alias moves: the alias points to the old or the new version, as the audit log says', async ({
    skip,
  }) => {
    if (!backend) skip();
    let client = await start();
    await client.createModel({ name: 'crash/alias' });
    for (const content of ['one', 'two']) {
      const { version } = await client.createVersion('crash/alias', {
        files: [{ path: 'w', sha256: sha(content), size: content.length }],
      });
      await client.request('PUT', `/api/v1/blobs/sha256:${sha(content)}`, {
        body: content,
        headers: { 'content-type': 'application/octet-stream' },
      });
      await client.commitVersion('crash/alias', version.version);
    }
    await client.setAlias('crash/alias', 'prod', 1);
    const moves = Array.from({ length: 60 }, (_, i) =>
      client.setAlias('crash/alias', 'prod', (i % 2) + 1).catch((e: Error) => e),
    );
    await sleep(30);
    await crash();
    await Promise.all(moves);

    client = await start();
    const alias = await client.getAlias('crash/alias', 'prod');
    expect([1, 2]).toContain(alias.version);
    const log = await client.audit({ target: 'models:/crash/alias@prod', limit: 1000 });
    expect((log.at(-1)!.after as { version: number }).version).toBe(alias.version);
    await client.setAlias('crash/alias', 'prod', 3 - alias.version);
    expect((await client.getAlias('crash/alias', 'prod')).version).toBe(3 - alias.version);
  });
});
