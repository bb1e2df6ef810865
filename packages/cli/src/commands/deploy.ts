import { parseModelUri } from '@ferry/registry-client';
import { deploymentName } from '@ferry/serve';
import type { Command } from '../command.js';
import { readDeploymentConfig } from '../deploy/config-file.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { pathOption, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'deploy models:/NAME@ALIAS (servers follow the alias), list or remove deployments',
  usage:
    'deploy models:/NAME@ALIAS [--name SERVED] [--config config.yaml] | deploy ls [--model NAME] | deploy rm SERVED',
  options: {
    name: {
      type: 'string',
      valueName: 'SERVED',
      description: 'the name the server serves it under (default: NAME with / as -)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      description: "serving config (the fields of ferry serve's config.yaml: batching, instances, ...)",
    },
    model: { type: 'string', valueName: 'NAME', description: 'ls: only this model' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [first, second, ...rest] = args.positionals;
    if (!first || rest.length > 0) throw new UsageError('deploy takes models:/NAME@ALIAS, ls or rm SERVED');
    const client = await registryClient(args);
    if (first === 'ls' && second === undefined) {
      const all = await client.listDeployments(stringOption(args.values, 'model'));
      if (args.values.json) printJson(io, { deployments: all });
      else {
        // One row per server serving it (a deployment's first row names it): a stopped server shows
        // offline beside the ones still serving, and one that never reported shows pending.
        const rows = [['name', 'follows', 'live', 'status', 'endpoint', 'message']];
        for (const d of all) {
          if (d.endpoints.length === 0) rows.push([d.name, d.uri, '-', d.status, '-', d.message]);
          d.endpoints.forEach((e, i) => {
            rows.push([
              i === 0 ? d.name : '',
              i === 0 ? d.uri : '',
              e.liveVersion === null ? '-' : String(e.liveVersion),
              e.status,
              e.endpoint ?? '-',
              e.message,
            ]);
          });
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows)
          io.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd()}\n`,
          );
      }
      return 0;
    }
    if (first === 'rm' && second !== undefined) {
      await client.deleteDeployment(second);
      if (args.values.json) printJson(io, { removed: second });
      else io.stdout.write(`removed deployment ${second}\n`);
      return 0;
    }
    if (second !== undefined) throw new UsageError('deploy takes one models:/NAME@ALIAS');
    const uri = parseModelUri(first);
    if (!uri.alias)
      throw new UsageError(
        `deploy follows an alias: give models:/${uri.model}@ALIAS (a fixed version never moves; set an alias to it)`,
      );
    const name = stringOption(args.values, 'name') ?? deploymentName(uri.model);
    if (!NAME.test(name))
      throw new UsageError(`--name ${name}: a served name is letters, digits, _ . - (at most 128)`);
    const configFile = pathOption(args.values, 'config');
    const config = configFile !== undefined ? await readDeploymentConfig(configFile) : null;
    // the alias must resolve now: deploying something that cannot load is refused here, not on a server
    const { version } = await client.resolve(first);
    const deployment = await client.putDeployment(name, { model: uri.model, alias: uri.alias, config });
    if (args.values.json) printJson(io, { ...deployment, resolvesTo: version });
    else
      io.stdout.write(
        `deployment ${name}: follows ${deployment.uri} (version ${version} now); ` +
          `servers following ${client.url} (ferry up, ferry serve --registry) load it on their next poll\n`,
      );
    return 0;
  },
};
