import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileHashes } from './file-hashes.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('FileHashes', () => {
  const parts = [randomBytes(100), randomBytes(50), randomBytes(7)];
  const file = sha(Buffer.concat(parts));
  const feed = (hashes: FileHashes, order = [0, 1, 2]) => {
    let offset = 0;
    for (const i of order) {
      hashes.add(file, offset, sha(parts[i]!), parts[i]!);
      offset += parts[i]!.length;
    }
  };

  it('answers the whole file sha256 when exactly the manifest chunks came in order', () => {
    const hashes = new FileHashes();
    feed(hashes);
    expect(hashes.take(file, parts.map(sha))).toBe(file);
    // taken once: a second commit reads back
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
  });

  it('answers nothing for another chunk list, a gap or a dropped file', () => {
    const hashes = new FileHashes();
    feed(hashes, [0, 2, 1]);
    expect(hashes.take(file, parts.map(sha))).toBeUndefined();
    const gap = new FileHashes();
    gap.add(file, 0, sha(parts[0]!), parts[0]!);
    gap.add(file, 150, sha(parts[2]!), parts[2]!); // skipped the middle one
    expect(gap.take(file, [sha(parts[0]!), sha(parts[2]!)])).toBeUndefined();
    const dropped = new FileHashes();
    feed(dropped);
    dropped.drop(file);
    expect(dropped.take(file, parts.map(sha))).toBeUndefined();
  });
});
