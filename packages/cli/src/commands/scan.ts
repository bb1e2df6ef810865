import { type ScanFileResult, scanPaths } from '@ferry/formats';
import type { Command } from '../command.js';
import { type CliIO, printJson } from '../io.js';
import { UsageError } from '../usage-error.js';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'check model files for code that would run on load (pickle, PyTorch, joblib...), running nothing',
  usage: 'scan PATH... [--json]   (a folder is scanned file by file)',
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
    // Across files errors outrank findings: a file that could not be read was not shown to be
    // safe. Within one file, findings made before a parse error make it unsafe (issue #16.4).
    if (files.some((f) => f.verdict === 'error')) return 2;
    return files.some((f) => f.verdict === 'unsafe') ? 1 : 0;
  },
};

function printHuman(io: CliIO, files: readonly ScanFileResult[]): void {
  const out: string[] = [];
  for (const file of files) {
    if (file.verdict === 'error')
      out.push(`${file.path}: error: ${file.error?.code}: ${file.error?.message}`);
    else
      out.push(
        `${file.path}: ${file.format}: ${file.verdict}${file.findings.length ? ` (${file.findings.length} findings)` : ''}`,
      );
    for (const f of file.findings) {
      out.push(
        `  ${f.severity.toUpperCase()} ${f.rule}: ${f.message}${f.location ? ` [${f.location}]` : ''}`,
      );
    }
    // Unsafe, and then it failed to parse: the failure is noted, the findings decide.
    if (file.error && file.verdict !== 'error')
      out.push(`  then it does not parse: ${file.error.code}: ${file.error.message}`);
  }
  io.stdout.write(`${out.join('\n')}\n`);
}
