import { signBundle } from '@ferry/bundle';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const signCommand: Command = {
  name: 'sign',
  summary: 'sign a bundle with an Ed25519 key (DSSE + in-toto, OpenSSF model-signing v1.0 shape)',
  usage: 'sign BUNDLE --key KEY [--signature SIG] [--json]',
  options: {
    key: { type: 'string', valueName: 'KEY', description: 'private key (PEM, from ferry keygen)' },
    signature: {
      type: 'string',
      valueName: 'SIG',
      description: 'signature file to write (default BUNDLE.sig)',
    },
  },
  async run(args, io) {
    const [bundle, ...rest] = args.positionals;
    if (!bundle || rest.length > 0) throw new UsageError('sign takes one BUNDLE');
    const key = pathOption(args.values, 'key');
    if (!key) throw new UsageError('sign needs --key KEY');
    const result = await signBundle(bundle, key, pathOption(args.values, 'signature'));
    if (args.values.json) printJson(io, result);
    else {
      io.stdout.write(`signed ${result.bundle} -> ${result.signature}\n`);
      io.stdout.write(
        `  ${result.statement.predicate.resources.length} files, digest sha256:${result.statement.subject[0].digest.sha256}\n`,
      );
    }
    return 0;
  },
};
