import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

export const aliasCommand: Command = {
  name: 'alias',
  summary: 'point an alias at a model version, or remove it',
  usage: 'alias set NAME ALIAS VERSION [--protected] | alias rm NAME ALIAS',
  options: {
    protected: { type: 'boolean', description: 'set: only admins may move or remove the alias afterwards' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [sub, model, alias, version, ...rest] = args.positionals;
    if (rest.length > 0 || !model || !alias)
      throw new UsageError('alias takes set NAME ALIAS VERSION or rm NAME ALIAS');
    const client = await registryClient(args);
    if (sub === 'set') {
      if (!version || !/^\d+$/.test(version)) throw new UsageError('alias set needs a VERSION number');
      const result = await client.setAlias(
        model,
        alias,
        Number(version),
        args.values.protected ? true : undefined,
      );
      if (args.values.json) printJson(io, result);
      else
        io.stdout.write(
          `models:/${model}@${alias} -> version ${result.version}${result.protected ? ' (protected)' : ''}\n`,
        );
      return 0;
    }
    if (sub === 'rm' && version === undefined) {
      await client.deleteAlias(model, alias);
      if (args.values.json) printJson(io, { removed: `models:/${model}@${alias}` });
      else io.stdout.write(`removed models:/${model}@${alias}\n`);
      return 0;
    }
    throw new UsageError('alias takes set NAME ALIAS VERSION or rm NAME ALIAS');
  },
};
