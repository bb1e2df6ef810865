import { generateKeyFiles } from '@ferry/bundle';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make an Ed25519 key pair for signing bundles (PREFIX.key, mode 0600, and PREFIX.pub)',
  usage: 'keygen [-o PREFIX] [--json]',
  options: {
    output: {
      type: 'string',
      short: 'o',
      valueName: 'PREFIX',
      description: 'key file prefix (default ferry)',
    },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('keygen takes no positional arguments');
    const files = await generateKeyFiles(pathOption(args.values, 'output') ?? 'ferry');
    if (args.values.json) printJson(io, files);
    else
      io.stdout.write(`private key ${files.privateKey} (keep it secret)\npublic key  ${files.publicKey}\n`);
    return 0;
  },
};
