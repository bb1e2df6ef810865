import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource, writeSafetensors } from '@ferry/formats';
import { ChunkCache, RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const MiB = 1024 * 1024;

/** A safetensors file of these tensors (F32, in order). */
async function model(path: string, tensors: Buffer[]): Promise<Buffer> {
  const source = new BufferSource(Buffer.concat(tensors));
  let offset = 0;
  await writeSafetensors(
    path,
    tensors.map((t, i) => {
      const ref = {
        name: `layer.${i}`,
        dtype: 'F32' as const,
        shape: [t.length / 4],
        source,
        offset,
        byteLength: t.length,
      };
      offset += t.length;
      return ref;
    }),
  );
  return readFile(path);
}

/**
 * The pipelined push (issue #20): chunks the registry lacks go up while the file is still being
 * hashed, window by window (64 MiB), before the version is declared; a cold push keeps its chunks
 * for the in-order send. The client's side, so one backend (dedup.test.ts runs both).
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
    const v1 = await model(path, tensors);
    let cold: TransferBytes | undefined;
    await client.push(path, { model: 'org/p', onProgress: (_d, _t, _p, b) => (cold = b ?? cold) });
    expect(cold).toEqual({ sent: v1.length, skipped: 0 });

    // Tensor 0 (first window) and tensor 17 (second window) change.
    const v2 = await model(
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
});
