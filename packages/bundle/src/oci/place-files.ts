import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, rename, unlink } from 'node:fs/promises';
import { bundleError } from '../errors.js';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Moves finished temp files onto their targets, all or none: a target that already holds the same
 * bytes is kept as it is (not rewritten); one that differs is refused, before anything moves,
 * unless `overwrite`. The temp files are removed either way.
 */
export async function placeFiles(
  moves: readonly { temp: string; target: string }[],
  overwrite: boolean,
): Promise<void> {
  try {
    const todo: { temp: string; target: string }[] = [];
    for (const move of moves) {
      const info = await lstat(move.target).catch(() => undefined);
      if (info?.isFile() && (await sha256Of(move.target)) === (await sha256Of(move.temp))) continue;
      if (info && !overwrite)
        throw bundleError('FERRY_BUNDLE_OUTPUT', {
          path: move.target,
          rule: 'exists and differs from what was pulled: nothing was written; pass --force to overwrite it',
        });
      todo.push(move);
    }
    for (const move of todo) await rename(move.temp, move.target);
  } finally {
    for (const move of moves) await unlink(move.temp).catch(() => undefined);
  }
}
