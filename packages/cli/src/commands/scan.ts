import { type ScanFileResult, scanPaths, worstVerdict } from '@ferry/formats';
import type { Command } from '../command.js';
import { type CliIO, printJson } from '../io.js';
import { terminalText as t } from '../terminal-text.js';
import { UsageError } from '../usage-error.js';

export const scanCommand: Command = {
  name: 'scan',
  summary:
    'check model files for code that would run on load (pickle, PyTorch, joblib...), running nothing; exit 1 unsafe, 2 invalid or unreadable',
  usage: 'scan PATH... [--json]   (a folder: every file in it, links followed inside it)',
  options: {},
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError('scan takes one or more PATHs');
    const files: ScanFileResult[] = [];
    // A folder that is not itself a model is scanned file by file.
    for (const path of args.positionals) files.push(...(await scanPaths(path)));
    if (args.values.json) {
      printJson(io, {
        files: files.map((f) => ({
          path: f.path,
          format: f.format,
          verdict: f.verdict,
          findings: f.findings.map((x) => ({
            severity: x.severity,
            rule: x.rule,
            message: x.message,
            location: x.location ?? '',
          })),
          ...(f.error && { error: f.error }),
        })),
      });
    } else {
      printHuman(io, files);
    }
    // The worst file decides: something found anywhere (even in a file whose scan then failed)
    // is 1; otherwise a file that was not read or not recognised is 2, never a silent 0.
    const worst = worstVerdict(files);
    return worst === 'unsafe' ? 1 : worst === 'error' ? 2 : 0;
  },
};

function printHuman(io: CliIO, files: readonly ScanFileResult[]): void {
  const out: string[] = [];
  for (const file of files) {
    // Every field can come from the file (a path, a global's name in a message): t() keeps each
    // on its line with its control characters visible.
    if (file.verdict === 'error')
      out.push(`${t(file.path)}: error: ${file.error?.code}: ${t(file.error?.message ?? '')}`);
    else
      out.push(
        `${t(file.path)}: ${t(file.format)}: ${file.verdict}${file.findings.length ? ` (${file.findings.length} findings)` : ''}`,
      );
    for (const f of file.findings) {
      out.push(
        `  ${f.severity.toUpperCase()} ${f.rule}: ${t(f.message)}${f.location ? ` [${t(f.location)}]` : ''}`,
      );
    }
    // Unsafe, and then it failed to parse: the failure is noted, the findings decide.
    if (file.error && file.verdict !== 'error')
      out.push(`  then it does not parse: ${file.error.code}: ${t(file.error.message)}`);
  }
  io.stdout.write(`${out.join('\n')}\n`);
}
