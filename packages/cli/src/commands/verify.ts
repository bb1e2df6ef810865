import { verifyBundle } from '@ferry/bundle';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: "check a bundle's signature and every file's digest (names what changed)",
  usage: 'verify BUNDLE --pub PUB [--signature SIG] [--json]',
  options: {
    pub: { type: 'string', valueName: 'PUB', description: 'public key (PEM, from ferry keygen)' },
    signature: { type: 'string', valueName: 'SIG', description: 'signature file (default BUNDLE.sig)' },
  },
  async run(args, io) {
    const [bundle, ...rest] = args.positionals;
    if (!bundle || rest.length > 0) throw new UsageError('verify takes one BUNDLE');
    const pub = pathOption(args.values, 'pub');
    if (!pub) throw new UsageError('verify needs --pub PUB');
    const result = await verifyBundle(bundle, pub, pathOption(args.values, 'signature'));
    if (args.values.json) printJson(io, result);
    else
      io.stdout.write(
        `verified ${result.name} ${result.version}: ${result.files} files match the signature (digest sha256:${result.digest})\n`,
      );
    return 0;
  },
};
