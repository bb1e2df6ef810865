import { type ModelVersion, parseModelName } from '@ferry/registry-client';
import type { Command } from '../command.js';
import { formatBytes, formatTable } from '../format-table.js';
import { type CliIO, printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, show or delete models in the registry',
  usage: 'models ls [--namespace NS] [--search TEXT] | models show NAME | models rm NAME --yes',
  options: {
    namespace: { type: 'string', valueName: 'NS', description: 'ls: only this namespace' },
    search: { type: 'string', valueName: 'TEXT', description: 'ls: names containing TEXT' },
    all: { type: 'boolean', description: 'show: include pending and failed versions' },
    yes: { type: 'boolean', description: 'rm: really delete the model and all its versions' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [sub, name, ...rest] = args.positionals;
    const client = await registryClient(args);
    if (sub === 'ls' && !name) {
      const namespace = stringOption(args.values, 'namespace');
      const search = stringOption(args.values, 'search');
      const { models } = await client.listModels({
        ...(namespace && { namespace }),
        ...(search && { search }),
      });
      if (args.values.json) printJson(io, models);
      else
        io.stdout.write(
          `${formatTable(
            ['name', 'latest', 'scan', 'aliases', 'visibility', 'description'],
            models.map((m) => [
              m.name,
              m.latestVersion === null ? '-' : String(m.latestVersion),
              // the latest version's verdict; `models show NAME` has every version's
              m.latestScan ?? '-',
              Object.entries(m.aliases)
                .map(([a, v]) => `${a}=${v}`)
                .join(' ') || '-',
              m.visibility,
              m.description,
            ]),
          )}\n`,
        );
      return 0;
    }
    if (!name || rest.length > 0) throw new UsageError('models takes ls, show NAME or rm NAME');
    parseModelName(name);
    if (sub === 'show') {
      const model = await client.getModel(name);
      const versions = await client.listVersions(name, args.values.all === true);
      if (args.values.json) printJson(io, { ...model, versions });
      else printModel(io, model, versions);
      return 0;
    }
    if (sub === 'rm') {
      if (!args.values.yes)
        throw new UsageError(`models rm deletes ${name} and every version; add --yes to confirm`);
      await client.deleteModel(name);
      if (args.values.json) printJson(io, { deleted: name });
      else io.stdout.write(`deleted ${name}\n`);
      return 0;
    }
    throw new UsageError('models takes ls, show NAME or rm NAME');
  },
};

function printModel(
  io: CliIO,
  model: Awaited<ReturnType<Awaited<ReturnType<typeof registryClient>>['getModel']>>,
  versions: ModelVersion[],
): void {
  const out = [`${model.name} (${model.visibility})${model.description ? `: ${model.description}` : ''}`];
  const tags = Object.entries(model.tags);
  if (tags.length) out.push(`  tags: ${tags.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const aliases = Object.entries(model.aliases);
  if (aliases.length) out.push(`  aliases: ${aliases.map(([a, v]) => `${a} -> ${v}`).join(', ')}`);
  out.push('');
  out.push(
    formatTable(
      ['version', 'status', 'scan', 'files', 'size', 'aliases', 'run', 'created'],
      versions.map((v) => [
        v.version,
        v.status,
        v.scan,
        v.files.length,
        formatBytes(v.files.reduce((sum, f) => sum + f.size, 0)),
        v.aliases.join(' ') || '-',
        v.runId ? v.runId.slice(0, 8) : '-',
        v.createdAt.replace(/\.\d+Z$/, 'Z'),
      ]),
    ),
  );
  io.stdout.write(`${out.join('\n')}\n`);
}
