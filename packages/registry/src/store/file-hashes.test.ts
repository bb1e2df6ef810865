import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileHashes, RUNNING_FILE_TTL_MS } from './file-hashes.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('FileHashes', () => {
  const parts = [randomBytes(100), randomBytes(50), randomBytes(7)];
  const file = sha(Buffer.concat(parts));
  /** One request per chunk, each continuing the file where the last one stopped. */
  const feed = (hashes: FileHashes, order = [0, 1, 2], pack?: string) => {
    let offset = 0;
    for (const i of order) {
      const state = hashes.begin(file, offset);
      if (!state) return;
      if (offset === 0) state.pack = pack;
      state.add(sha(parts[i]!), parts[i]!);
      hashes.end(file, state);
      offset += parts[i]!.length;
    }
  };

  it('answers the whole file sha256 (and its pack) when exactly the manifest chunks came in order', () => {
    const hashes = new FileHashes();
    feed(hashes, [0, 1, 2], 'p');
    expect(hashes.take(file, parts.map(sha))).toEqual({ sha256: file, pack: 'p' });
    // taken once: a second commit reads back
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
  });

  it('answers nothing for another chunk list, a gap or a request that did not end', () => {
    const hashes = new FileHashes();
    feed(hashes, [0, 2, 1]);
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
    const gap = new FileHashes();
    const first = gap.begin(file, 0)!;
    first.add(sha(parts[0]!), parts[0]!);
    gap.end(file, first);
    expect(gap.begin(file, 150)).toBeUndefined(); // skipped the middle one
    expect(gap.take(file, [sha(parts[0]!), sha(parts[2]!)])).toBeUndefined();
    const failed = new FileHashes();
    feed(failed, [0, 1]);
    failed.begin(file, 150)!.add(sha(parts[2]!), parts[2]!); // never ended: its pack failed
    expect(failed.take(file, parts.map(sha))).toBeUndefined();
  });

  it('gives a file state to one request at a time', () => {
    const hashes = new FileHashes();
    const first = hashes.begin(file, 0)!;
    first.add(sha(parts[0]!), parts[0]!);
    hashes.end(file, first);
    const taken = hashes.begin(file, 100);
    expect(taken).toBeDefined();
    expect(hashes.begin(file, 100)).toBeUndefined();
  });

  it('drops a state left idle past RUNNING_FILE_TTL_MS (its commit reads back)', () => {
    let now = 1_000;
    const hashes = new FileHashes(() => now);
    feed(hashes, [0, 1]);
    now += RUNNING_FILE_TTL_MS;
    expect(hashes.begin(file, 150)).toBeUndefined();
    feed(hashes, [0, 1, 2]);
    now += RUNNING_FILE_TTL_MS;
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
    // An idle state is swept when another file's request ends, so it does not hold memory.
    feed(hashes, [0, 1, 2]);
    now += RUNNING_FILE_TTL_MS;
    const other = hashes.begin('upload:other', 0)!;
    hashes.end('upload:other', other);
    now -= RUNNING_FILE_TTL_MS;
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
  });
});
