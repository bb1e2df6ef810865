import { formatModelUri } from '@ferry/registry';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

export const pushCommand: Command = {
  name: 'push',
  summary: 'upload a model file or folder to the registry as a new version',
  usage:
    'push PATH --model NAME [--alias A] [--run ID] [--derived-from models:/...] [--description TEXT] [--private]',
  options: {
    model: {
      type: 'string',
      valueName: 'NAME',
      description: 'model name, NAME or NAMESPACE/NAME (created if new)',
    },
    alias: { type: 'string', valueName: 'ALIAS', description: 'point this alias at the new version' },
    run: {
      type: 'string',
      valueName: 'ID',
      description: 'the run that produced it (lineage: run -> version)',
    },
    'derived-from': {
      type: 'string',
      multiple: true,
      valueName: 'URI',
      description: 'models:/... it was derived from (repeatable)',
    },
    description: { type: 'string', valueName: 'TEXT', description: 'version description' },
    private: { type: 'boolean', description: 'create a new model as private' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const path = args.positionals[0];
    if (!path || args.positionals.length > 1) throw new UsageError('push takes one PATH');
    const model = args.values.model as string | undefined;
    if (!model) throw new UsageError('push needs --model NAME');
    const client = await registryClient(args);
    let bar: ProgressBar | undefined;
    const version = await client.push(path, {
      model,
      ...(args.values.alias && { alias: args.values.alias as string }),
      ...(args.values.run && { runId: args.values.run as string }),
      ...(args.values['derived-from'] && { derivedFrom: args.values['derived-from'] as string[] }),
      ...(args.values.description && { description: args.values.description as string }),
      ...(args.values.private && { visibility: 'private' as const }),
      onProgress: (done, total, file) => {
        bar ??= new ProgressBar(io, 'push', total);
        bar.update(done, file);
      },
    });
    (bar as ProgressBar | undefined)?.finish();
    if (args.values.json) printJson(io, version);
    else {
      const bytes = version.files.reduce((sum, f) => sum + f.size, 0);
      io.stdout.write(
        `pushed ${formatModelUri({ model: version.model, version: version.version })}: ${version.files.length} file(s), ${formatBytes(bytes)}, scan ${version.scan}${version.aliases.length ? `, aliases ${version.aliases.join(', ')}` : ''}\n`,
      );
    }
    return 0;
  },
};
