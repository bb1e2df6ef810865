import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { forgetCredential, REGISTRY_OPTIONS, registryUrl } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'forget the token ferry login saved for a registry',
  usage: 'logout [--registry URL] [--json]',
  options: { registry: REGISTRY_OPTIONS.registry! },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('logout takes no positional arguments');
    const registry = registryUrl(args);
    // Local only: the token stays valid on the registry (ferry tokens revoke ID ends it there).
    const removed = await forgetCredential(registry);
    if (args.values.json) printJson(io, { registry, removed });
    else
      io.stdout.write(
        removed
          ? `logged out of ${registry} (saved token removed)\n`
          : `no token was saved for ${registry}\n`,
      );
    if (!args.values.json && process.env.FERRY_TOKEN)
      io.stderr.write('ferry logout: FERRY_TOKEN is still set in this shell and is still sent\n');
    return 0;
  },
};
