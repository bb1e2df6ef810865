import { formatModelUri } from '@ferry/registry';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'download a model version from the registry into a folder (verified by sha256)',
  usage: 'pull models:/NAME@ALIAS|models:/NAME/VERSION -o DIR [--force]',
  options: {
    output: { type: 'string', short: 'o', valueName: 'DIR', description: 'folder to download into' },
    force: { type: 'boolean', description: 'download a version the scan marked unsafe' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const uri = args.positionals[0];
    if (!uri || args.positionals.length > 1) throw new UsageError('pull takes one models:/ URI');
    const dir = args.values.output as string | undefined;
    if (!dir) throw new UsageError('pull needs -o DIR');
    const client = await registryClient(args);
    let bar: ProgressBar | undefined;
    const version = await client.pull(uri, dir, {
      force: args.values.force === true,
      onProgress: (done, total, file) => {
        bar ??= new ProgressBar(io, 'pull', total);
        bar.update(done, file);
      },
    });
    (bar as ProgressBar | undefined)?.finish();
    if (args.values.json) printJson(io, { ...version, directory: dir });
    else {
      const bytes = version.files.reduce((sum, f) => sum + f.size, 0);
      io.stdout.write(
        `pulled ${formatModelUri({ model: version.model, version: version.version })} into ${dir}: ${version.files.length} file(s), ${formatBytes(bytes)}, sha256 verified\n`,
      );
    }
    return 0;
  },
};
