import type { ParsedArgs } from './command.js';
import { formatBytes } from './format-table.js';
import { type CliIO, printJson } from './io.js';
import { registryClient } from './registry-client.js';

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');

/**
 * `ferry inspect models:/NAME/VERSION`: how much of a registry version's stored bytes it shares
 * with its parent and with any other version (chunk dedup, issue #20).
 */
export async function inspectRegistryVersion(args: ParsedArgs, io: CliIO, uri: string): Promise<number> {
  const client = await registryClient(args);
  const { model, version } = await client.resolve(uri);
  const sharing = await client.versionSharing(model, version);
  if (args.values.json) {
    printJson(io, sharing);
    return 0;
  }
  io.stdout.write(
    `models:/${model}/${version}: ${formatBytes(sharing.size)}, stored as ${formatBytes(sharing.bytes)} of distinct chunks\n` +
      `  shared with ${sharing.parent ?? 'its parent (none)'}: ${formatBytes(sharing.sharedWithParent)} (${pct(sharing.sharedWithParent, sharing.bytes)})\n` +
      `  shared with any other version: ${formatBytes(sharing.sharedWithAny)} (${pct(sharing.sharedWithAny, sharing.bytes)})\n`,
  );
  return 0;
}
