import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkCache, RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';
import { packFiles } from './pack-files.helper.js';
import { writeModel } from './safetensors-model.helper.js';

const MiB = 1024 * 1024;

/**
 * The pipelined push (issue #20): chunks the registry lacks go up while the file is still being
 * hashed, window by window (64 MiB), before the version is declared; a file the registry lacks
 * (nearly) all of goes in file order under an upload id, before its sha256 is known, and ends as
 * one pack. The client's side, so one backend (dedup.test.ts runs both).
 */
describe.each(BACKENDS.slice(0, 1))('the pipelined push on $name', (spec) => {
  let backend: Backend | undefined;
  let server: (RegistryServer & { url: string }) | undefined;
  let client: RegistryClient;
  let work: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend, { auth: 'none' });
    client = new RegistryClient({ url: server.url });
    work = await mkdtemp(join(tmpdir(), 'ferry-dedup-push-'));
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('sends only the missing chunks of a file partly present, in both of its windows, before declaring the version', async ({
    skip,
  }) => {
    if (!backend) skip();
    // 18 tensors of 4 MiB: two 64 MiB windows.
    const tensors = Array.from({ length: 18 }, () => randomBytes(4 * MiB));
    const path = join(work, 'm.safetensors');
    const v1 = await writeModel(path, tensors);
    let cold: TransferBytes | undefined;
    await client.push(path, { model: 'org/p', onProgress: (_d, _t, _p, b) => (cold = b ?? cold) });
    expect(cold).toEqual({ sent: v1.length, skipped: 0 });

    // Tensor 0 (first window) and tensor 17 (second window) change.
    const v2 = await writeModel(
      path,
      tensors.map((t, i) => (i === 0 || i === 17 ? randomBytes(t.length) : t)),
    );
    const events: TransferBytes[] = [];
    let versionsAtFirstSend: Promise<unknown[]> | undefined;
    const version = await client.push(path, {
      model: 'org/p',
      onProgress: (_d, _t, _p, b) => {
        if (!b) return;
        events.push({ ...b });
        if (b.sent > 0) versionsAtFirstSend ??= client.listVersions('org/p');
      },
    });
    expect(version.version).toBe(2);
    const last = events[events.length - 1]!;
    // The two changed tensors and the chunk holding the header.
    expect(last.sent).toBeGreaterThanOrEqual(8 * MiB);
    expect(last.sent).toBeLessThan(8 * MiB + 200_000);
    expect(last.sent + last.skipped).toBe(v2.length);
    // Bytes went before the version existed: only version 1 was listed then.
    expect((await versionsAtFirstSend)!.map((v) => (v as { version: number }).version)).toEqual([1]);
    // Progress never runs backwards.
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.sent + events[i]!.skipped).toBeGreaterThanOrEqual(
        events[i - 1]!.sent + events[i - 1]!.skipped,
      );

    // Pulled in chunks (a file this size is hashed on a worker thread as it is written), then
    // again from the cache alone.
    const cache = new ChunkCache(join(work, 'cache'));
    for (const [out, fetched] of [
      ['out', v2.length],
      ['again', 0],
    ] as const) {
      let pulled: TransferBytes | undefined;
      await client.pull('models:/org/p/2', join(work, out), {
        cache,
        force: true,
        onProgress: (_d, _t, _p, b) => (pulled = b ?? pulled),
      });
      expect((await readFile(join(work, out, 'm.safetensors'))).equals(v2)).toBe(true);
      expect(pulled).toEqual({ sent: fetched, skipped: v2.length - fetched });
    }
  });

  /** Pushes `path` as the next version of `name`: its progress and the pack files it added. */
  const pushObserved = async (path: string, name: string) => {
    const before = new Set(await packFiles(backend!));
    const events: TransferBytes[] = [];
    let versionsAtFirstSend: Promise<unknown[]> | undefined;
    await client.push(path, {
      model: name,
      onProgress: (_d, _t, _p, b) => {
        if (!b) return;
        events.push({ ...b });
        if (b.sent > 0) versionsAtFirstSend ??= client.listVersions(name);
      },
    });
    const versions = ((await versionsAtFirstSend) ?? []).map((v) => (v as { version: number }).version);
    return {
      last: events[events.length - 1]!,
      versions,
      added: (await packFiles(backend!)).filter((f) => !before.has(f)),
    };
  };

  it('sends a cold file before its sha256 is known, in order under an upload id, and keeps it as one pack', async ({
    skip,
  }) => {
    if (!backend) skip();
    const path = join(work, 'cold.safetensors');
    await writeModel(path, [randomBytes(1024)]);
    await client.push(path, { model: 'org/cold' });
    // 18 tensors of 4 MiB, none in the registry: two windows, both sent while the file is hashed.
    const file = await writeModel(
      path,
      Array.from({ length: 18 }, () => randomBytes(4 * MiB)),
    );
    const { last, versions, added } = await pushObserved(path, 'org/cold');
    expect(last).toEqual({ sent: file.length, skipped: 0 });
    // The first pack went before the version (whose files are named by sha256) was declared.
    expect(versions).toEqual([1]);
    // One pack that is the file: the commit took the hash the packs fed (it links the pack only
    // then; a read-back commit leaves the chunks where they are, no pack is the file).
    expect(added).toHaveLength(1);
    expect((await readFile(added[0]!)).equals(file)).toBe(true);
    const out = join(work, 'cold-out');
    await client.pull('models:/org/cold/2', out, { cache: false, force: true });
    expect((await readFile(join(out, 'cold.safetensors'))).equals(file)).toBe(true);
  });

  it('sends every chunk of a file it lacks >= 98% of, in order, as one pack, at most 101% of its bytes', async ({
    skip,
  }) => {
    if (!backend) skip();
    const path = join(work, 'full.safetensors');
    // A frozen 1 MiB tensor (1.4% of the file) and 18 trained ones of 4 MiB.
    const frozen = randomBytes(MiB);
    await writeModel(path, [frozen, ...Array.from({ length: 18 }, () => randomBytes(4 * MiB))]);
    await client.push(path, { model: 'org/full' });
    const file = await writeModel(path, [frozen, ...Array.from({ length: 18 }, () => randomBytes(4 * MiB))]);
    const { last, added } = await pushObserved(path, 'org/full');
    // The frozen tensor's chunk and the header chunk go again (in order), nothing is skipped.
    expect(last).toEqual({ sent: file.length, skipped: 0 });
    expect(last.sent).toBeLessThanOrEqual(1.01 * file.length);
    expect(added).toHaveLength(1);
    expect((await readFile(added[0]!)).equals(file)).toBe(true);
    const out = join(work, 'full-out');
    await client.pull('models:/org/full/2', out, { cache: false, force: true });
    expect((await readFile(join(out, 'full.safetensors'))).equals(file)).toBe(true);
  });
});
