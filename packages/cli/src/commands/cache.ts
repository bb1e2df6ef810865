import { ChunkCache, DEFAULT_CACHE_MAX_BYTES, defaultCacheDir } from '@ferry/registry-client';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { byteSize, pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

/**
 * The local chunk cache `ferry pull` keeps (issue #20): `ls` says what it holds, `prune` shrinks
 * it to a size (least recently used entry first, an entry being a pulled file and its chunk list;
 * `--max-size 0` empties it).
 */
export const cacheCommand: Command = {
  name: 'cache',
  summary: 'list or prune the chunk cache ferry pull keeps (only chunks not cached are fetched)',
  usage: 'cache ls|prune [--dir DIR] [--max-size BYTES] [--json]',
  options: {
    dir: {
      type: 'string',
      valueName: 'DIR',
      description: `cache folder (default $FERRY_CACHE_DIR, else ${defaultCacheDir({ HOME: '~' })})`,
    },
    'max-size': {
      type: 'string',
      valueName: 'BYTES',
      description: `prune: keep at most this much, e.g. 5GiB (default ${formatBytes(DEFAULT_CACHE_MAX_BYTES)})`,
    },
  },
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    if (rest.length > 0 || (action !== 'ls' && action !== 'prune'))
      throw new UsageError('cache takes one action: ls or prune');
    const cache = new ChunkCache(pathOption(args.values, 'dir') ?? defaultCacheDir());
    if (action === 'ls') {
      if (args.values['max-size'] !== undefined) throw new UsageError('--max-size is for cache prune');
      const entries = await cache.list();
      const bytes = entries.reduce((n, e) => n + e.size, 0);
      const chunks = entries.reduce((n, e) => n + e.chunks, 0);
      const files = entries.filter((e) => e.kind === 'file').length;
      // Bytes also linked from pulled files take no extra disk while those files exist: said, so
      // the total does not read as disk the cache alone holds.
      const linkedBytes = entries.reduce((n, e) => n + (e.linked ? e.size : 0), 0);
      if (args.values.json)
        printJson(io, { dir: cache.dir, chunks, files, bytes, linkedBytes, maxBytes: cache.maxBytes });
      else
        io.stdout.write(
          `${cache.dir}: ${chunks} chunk(s) in ${files} file(s), ${formatBytes(bytes)}, ${formatBytes(linkedBytes)} of it shared with pulled files (bound ${formatBytes(cache.maxBytes)})\n`,
        );
      return 0;
    }
    // 0 empties the cache (byteSize itself takes 1 byte and up).
    const max = args.values['max-size'] === '0' ? 0 : byteSize(args.values, 'max-size');
    const result = await cache.prune(max ?? DEFAULT_CACHE_MAX_BYTES);
    if (args.values.json) printJson(io, { dir: cache.dir, ...result });
    else
      io.stdout.write(
        `${cache.dir}: removed ${result.removed} entr${result.removed === 1 ? 'y' : 'ies'}, ${formatBytes(result.bytes)}; kept ${result.kept}, ${formatBytes(result.keptBytes)}\n`,
      );
    return 0;
  },
};
