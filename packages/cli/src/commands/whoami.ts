import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient, registryUrl } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'show who the registry takes the token for, and its scopes',
  usage: 'whoami [--registry URL] [--token TOKEN] [--json]',
  options: { ...REGISTRY_OPTIONS },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('whoami takes no positional arguments');
    const me = await (await registryClient(args)).whoami();
    const registry = registryUrl(args);
    if (args.values.json) printJson(io, { registry, ...me });
    else if (me.anonymous)
      io.stdout.write(`anonymous at ${registry} (no token: set FERRY_TOKEN or run ferry login)\n`);
    else io.stdout.write(`${me.user} at ${registry} (${me.scopes.join(', ') || 'no scopes'})\n`);
    return 0;
  },
};
