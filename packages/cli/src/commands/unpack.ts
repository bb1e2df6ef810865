import { unpackBundle } from '@ferry/bundle';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const unpackCommand: Command = {
  name: 'unpack',
  summary: 'extract a bundle safely into a new folder (digests checked; links, devices and slips refused)',
  usage: 'unpack BUNDLE -o DIR [--pub PUB [--signature SIG]] [--json]',
  options: {
    output: {
      type: 'string',
      short: 'o',
      valueName: 'DIR',
      description: 'folder to create (must not exist or be empty)',
    },
    pub: { type: 'string', valueName: 'PUB', description: 'verify the signature with this public key first' },
    signature: { type: 'string', valueName: 'SIG', description: 'signature file (default BUNDLE.sig)' },
  },
  async run(args, io) {
    const [bundle, ...rest] = args.positionals;
    if (!bundle || rest.length > 0) throw new UsageError('unpack takes one BUNDLE');
    const out = pathOption(args.values, 'output');
    if (!out) throw new UsageError('unpack needs -o DIR');
    const pub = pathOption(args.values, 'pub');
    const signature = pathOption(args.values, 'signature');
    const result = await unpackBundle(bundle, out, {
      ...(pub !== undefined && { publicKey: pub }),
      ...(signature !== undefined && { signature }),
    });
    if (args.values.json) printJson(io, result);
    else
      io.stdout.write(
        `unpacked ${result.manifest.name} ${result.manifest.version} -> ${result.path} (${result.files} files, ${formatBytes(result.bytes)}${result.verified ? ', signature verified' : ''})\n`,
      );
    return 0;
  },
};
