import { type DiffReport, diffModels } from '@ferry/formats';
import type { Command } from '../command.js';
import { formatTable } from '../format-table.js';
import { type CliIO, printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { terminalText } from '../terminal-text.js';
import { nonNegativeNumber } from '../options.js';
import { UsageError } from '../usage-error.js';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare the tensors of two models of any formats, matched by name (exit 1 when different)',
  usage: 'diff A B [--json] [--atol X]',
  options: {
    atol: {
      type: 'string',
      valueName: 'X',
      description: 'largest absolute difference counted as equal (default 0)',
    },
  },
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError('diff takes two paths');
    const [a, b] = args.positionals as [string, string];
    const atol = nonNegativeNumber(args.values, 'atol') ?? 0;
    let bar: ProgressBar | undefined;
    let report: DiffReport;
    try {
      report = await diffModels(a, b, {
        atol,
        onProgress: (done, total, name) => {
          bar ??= new ProgressBar(io, 'diff', total);
          bar.update(done, name);
        },
      });
    } finally {
      bar?.finish();
    }
    if (args.values.json) printJson(io, toJson(report));
    else printReport(io, report);
    return report.equal ? 0 : 1;
  },
};

/** JSON has no Infinity: a NaN/infinity mismatch prints as the string "Infinity". */
function toJson(report: DiffReport): unknown {
  return {
    ...report,
    tensors: report.tensors.map((t) => ({
      ...t,
      maxAbsDiff: t.maxAbsDiff === Number.POSITIVE_INFINITY ? 'Infinity' : t.maxAbsDiff,
    })),
  };
}

function shape(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

function printReport(io: CliIO, report: DiffReport): void {
  const out: string[] = [
    `A: ${terminalText(report.a.path)} (${report.a.format}, ${report.a.tensors} tensors)`,
  ];
  out.push(`B: ${terminalText(report.b.path)} (${report.b.format}, ${report.b.tensors} tensors)`, '');
  const rows: (string | number)[][] = report.tensors.map((t) => [
    t.name,
    t.status,
    t.dtypeA === t.dtypeB ? t.dtypeA : `${t.dtypeA} / ${t.dtypeB}`,
    shape(t.shapeA) === shape(t.shapeB) ? shape(t.shapeA) : `${shape(t.shapeA)} / ${shape(t.shapeB)}`,
    t.maxAbsDiff === null ? '-' : t.maxAbsDiff.toPrecision(4).replace(/\.?0+(e|$)/, '$1'),
  ]);
  for (const name of report.onlyInA) rows.push([name, 'only in A', '', '', '']);
  for (const name of report.onlyInB) rows.push([name, 'only in B', '', '', '']);
  // Opaque tensors (object arrays, quantized storages) are named, never skipped silently.
  for (const t of report.notCompared) {
    const where = t.a && t.b ? 'not compared' : t.a ? 'only in A, not compared' : 'only in B, not compared';
    rows.push([t.name, where, terminalText((t.a ?? t.b)!.split(':')[0]!), '', '-']);
  }
  if (rows.length > 0) out.push(formatTable(['tensor', 'status', 'dtype', 'shape', 'max |a-b|'], rows), '');
  const differing = report.tensors.filter((t) => t.status !== 'equal' && t.status !== 'within-atol').length;
  const same = report.tensors.length - differing;
  out.push(
    report.comparedBy === 'bytes'
      ? `${report.equal ? 'equal' : 'different'}: neither model holds tensors, so the files were compared byte for byte`
      : report.equal
        ? `equal: ${same} tensors match${report.atol > 0 ? ` within atol ${report.atol}` : ''}${report.notCompared.length > 0 ? `; ${report.notCompared.length} not compared (no ferry dtype)` : ''}`
        : `different: ${differing} of ${report.tensors.length} shared tensors differ, ${report.onlyInA.length} only in A, ${report.onlyInB.length} only in B (atol ${report.atol})`,
  );
  io.stdout.write(`${out.join('\n')}\n`);
}
