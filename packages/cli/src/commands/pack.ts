import { BundleManifestError, packBundle } from '@ferry/bundle';
import type { Command } from '../command.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { UsageError } from '../usage-error.js';

export const packCommand: Command = {
  name: 'pack',
  summary: 'pack a ferry.yaml project into one reproducible bundle (models scanned, dependencies installed)',
  usage: 'pack DIR [-o OUT] [--json]',
  options: {
    output: {
      type: 'string',
      short: 'o',
      valueName: 'OUT',
      description: 'bundle file to write (default NAME-VERSION.ferry)',
    },
  },
  async run(args, io) {
    const [dir, ...rest] = args.positionals;
    if (!dir || rest.length > 0) throw new UsageError('pack takes one project folder');
    let bar: ProgressBar | undefined;
    try {
      const output = args.values.output as string | undefined;
      const result = await packBundle(dir, {
        ...(output !== undefined && { output }),
        onProgress: (done, total, path) => {
          bar ??= new ProgressBar(io, 'pack', total);
          bar.update(done, path);
        },
      });
      bar?.finish();
      if (args.values.json) printJson(io, result);
      else {
        io.stdout.write(`packed ${result.name} ${result.version} -> ${result.path}\n`);
        io.stdout.write(`  ${result.files} files (${formatBytes(result.bytes)}) + .ferry/manifest.json\n`);
        for (const model of result.manifest.models) {
          const where = model.path ?? model.ref;
          const notes = model.findings.length > 0 ? `, ${model.findings.length} note(s)` : '';
          io.stdout.write(
            `  model ${model.name} (${model.format}) ${where}: ${model.ref ? 'reference, resolved when served' : `scanned, safe${notes}`}\n`,
          );
        }
      }
      return 0;
    } catch (error) {
      bar?.finish();
      // Every ferry.yaml problem on its own line, then exit 2 (the same form main prints for one error).
      if (error instanceof BundleManifestError) {
        for (const problem of error.problems)
          io.stderr.write(`ferry pack: ${problem.code}: ${problem.message}\n`);
        return 2;
      }
      throw error;
    }
  },
};
