import { packBundle } from '@ferry/bundle';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const packCommand: Command = {
  name: 'pack',
  summary:
    'pack a ferry.yaml project into one reproducible bundle (models scanned, registry models pinned and packed, dependencies installed)',
  usage: 'pack DIR [-o OUT] [--registry URL] [--token TOKEN] [--json]',
  options: {
    output: {
      type: 'string',
      short: 'o',
      valueName: 'OUT',
      description: 'bundle file to write (default NAME-VERSION.ferry)',
    },
    // the registry that resolves `ref: models:/...` models in ferry.yaml
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [dir, ...rest] = args.positionals;
    if (!dir || rest.length > 0) throw new UsageError('pack takes one project folder');
    let bar: ProgressBar | undefined;
    // one bar per registry model download, then one for writing the bundle
    let download: { model: string; bar: ProgressBar } | undefined;
    try {
      const output = pathOption(args.values, 'output');
      const result = await packBundle(dir, {
        ...(output !== undefined && { output }),
        registry: await registryClient(args),
        onDownload: (model, done, total, path) => {
          if (download?.model !== model) {
            download?.bar.finish();
            download = { model, bar: new ProgressBar(io, `pull ${model}`, total) };
          }
          download.bar.update(done, path);
        },
        onProgress: (done, total, path) => {
          download?.bar.finish();
          download = undefined;
          bar ??= new ProgressBar(io, 'pack', total);
          bar.update(done, path);
        },
      });
      (download as { bar: ProgressBar } | undefined)?.bar.finish();
      bar?.finish();
      if (args.values.json) printJson(io, result);
      else {
        io.stdout.write(`packed ${result.name} ${result.version} -> ${result.path}\n`);
        io.stdout.write(`  ${result.files} files (${formatBytes(result.bytes)}) + .ferry/manifest.json\n`);
        for (const model of result.manifest.models) {
          const notes = model.findings.length > 0 ? `, ${model.findings.length} note(s)` : '';
          const from = model.ref ? ` from ${model.ref} (version ${model.version}, sha256 verified)` : '';
          io.stdout.write(
            `  model ${model.name} (${model.format}) ${model.path}${from}: scanned, safe${notes}\n`,
          );
        }
      }
      return 0;
    } catch (error) {
      (download as { bar: ProgressBar } | undefined)?.bar.finish();
      bar?.finish();
      // main prints every ferry.yaml problem on its own line (and as JSON with --json)
      throw error;
    }
  },
};
