import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { positiveInteger } from '../options.js';
import { UsageError } from '../usage-error.js';

/** The registry's own bound on a lineage walk (its MAX_LINEAGE_DEPTH): deeper asks are refused there. */
const MAX_LINEAGE_DEPTH = 32;

export const lineageCommand: Command = {
  name: 'lineage',
  summary: 'show where a model version came from and what was made from it',
  usage: 'lineage models:/NAME@ALIAS|models:/NAME/VERSION|run:ID|dataset:ID [--depth N]',
  options: {
    depth: {
      type: 'string',
      valueName: 'N',
      description: 'how many edges to follow each way (default and maximum 32)',
    },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const node = args.positionals[0];
    if (!node || args.positionals.length > 1) throw new UsageError('lineage takes one URI');
    const depth = positiveInteger(args.values, 'depth', MAX_LINEAGE_DEPTH);
    const client = await registryClient(args);
    const graph = await client.lineage(node, depth);
    if (args.values.json) {
      printJson(io, graph);
      return 0;
    }
    const out = [graph.node];
    out.push('upstream:');
    if (graph.upstream.edges.length === 0) out.push('  (none)');
    for (const e of graph.upstream.edges) out.push(`  ${e.dst} <-${e.relation}- ${e.src}`);
    out.push('downstream:');
    if (graph.downstream.edges.length === 0) out.push('  (none)');
    for (const e of graph.downstream.edges) out.push(`  ${e.src} -${e.relation}-> ${e.dst}`);
    io.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
