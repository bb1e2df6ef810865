import type { Command } from '../command.js';
import { waitForFollowers } from '../deploy/wait-followers.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { seconds } from '../options.js';
import { UsageError } from '../usage-error.js';

/** How long --wait waits by default: a large model downloads, loads and warms in this. */
const DEFAULT_WAIT_S = 120;

export const aliasCommand: Command = {
  name: 'alias',
  summary: 'point an alias at a model version, or remove it',
  usage: 'alias set NAME ALIAS VERSION [--protected] [--wait [--timeout SECONDS]] | alias rm NAME ALIAS',
  options: {
    protected: { type: 'boolean', description: 'set: only admins may move or remove the alias afterwards' },
    wait: {
      type: 'boolean',
      description: 'set: return once every live server of the deployments following the alias serves VERSION',
    },
    timeout: {
      type: 'string',
      valueName: 'SECONDS',
      description: `set --wait: give up after this long (default ${DEFAULT_WAIT_S}; exit 2, the alias stays moved)`,
    },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [sub, model, alias, version, ...rest] = args.positionals;
    if (rest.length > 0 || !model || !alias)
      throw new UsageError('alias takes set NAME ALIAS VERSION or rm NAME ALIAS');
    const client = await registryClient(args);
    if (sub === 'set') {
      if (!version || !/^\d+$/.test(version)) throw new UsageError('alias set needs a VERSION number');
      const timeoutMs = seconds(args.values, 'timeout') ?? DEFAULT_WAIT_S * 1000;
      if (args.values.timeout !== undefined && !args.values.wait)
        throw new UsageError('--timeout applies to --wait');
      const movedAt = new Date().toISOString();
      const result = await client.setAlias(
        model,
        alias,
        Number(version),
        args.values.protected ? true : undefined,
      );
      const switched = args.values.wait
        ? await waitForFollowers(client, { model, alias, version: result.version }, timeoutMs, movedAt)
        : undefined;
      if (args.values.json) printJson(io, { ...result, ...(switched && { switched: switched.deployments }) });
      else {
        io.stdout.write(
          `models:/${model}@${alias} -> version ${result.version}${result.protected ? ' (protected)' : ''}\n`,
        );
        if (switched) {
          const servers = switched.deployments.reduce((n, d) => n + d.endpoints.length, 0);
          io.stdout.write(
            switched.deployments.length === 0
              ? `no deployment follows models:/${model}@${alias}: nothing to wait for\n`
              : `${servers} server(s) of ${switched.deployments.map((d) => d.name).join(', ')} serve version ${result.version}\n`,
          );
        }
      }
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
