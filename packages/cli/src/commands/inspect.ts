import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectFormat, type InspectReport, inspectModel } from '@ferry/formats';
import type { Command } from '../command.js';
import { formatBytes, formatCount, formatTable } from '../format-table.js';
import { type CliIO, printJson } from '../io.js';
import { terminalText as t } from '../terminal-text.js';
import { stringOption } from '../options.js';
import { REGISTRY_OPTIONS } from '../registry-client.js';
import { UsageError } from '../usage-error.js';
import { inspectRegistryVersion } from '../version-sharing.js';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show what a model file or folder holds, without running anything in it',
  usage:
    'inspect PATH [--json] [--unsafe-inspect] | inspect SAVEDMODEL_DIR --ops [--tag serve] | inspect FROZEN.pb --ops | inspect models:/NAME/VERSION [--registry URL]',
  options: {
    'unsafe-inspect': {
      type: 'boolean',
      description: 'show a file the scanner refuses (still executes nothing)',
    },
    ops: {
      type: 'boolean',
      description:
        "list a SavedModel's or frozen GraphDef's ops, marked + converted to ONNX, ~ inlined call, - not converted",
    },
    tag: {
      type: 'string',
      valueName: 'TAGS',
      description: 'with --ops: the MetaGraph tag set (default serve)',
    },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const path = args.positionals[0];
    if (!path || args.positionals.length > 1) throw new UsageError('inspect takes one PATH');
    if (path.startsWith('models:/')) return inspectRegistryVersion(args, io, path);
    if (args.values.ops)
      return printOps(io, path, stringOption(args.values, 'tag'), args.values.json === true);
    const report = await inspectModel(path, { unsafeInspect: args.values['unsafe-inspect'] === true });
    if (args.values.json) printJson(io, report);
    else printReport(io, report);
    return 0;
  },
};

const MARKS = { covered: '+', inlined: '~', uncovered: '-' } as const;

async function printOps(io: CliIO, path: string, tag: unknown, json: boolean): Promise<number> {
  // @ferry/convert only for --ops: a plain inspect does not load the converters (issue #23)
  const { graphDefOpCoverage, savedModelOpCoverage } = await import('@ferry/convert');
  let ops: Awaited<ReturnType<typeof savedModelOpCoverage>>;
  if (existsSync(join(path, 'saved_model.pb'))) {
    ops = await savedModelOpCoverage(path, typeof tag === 'string' ? tag : undefined);
  } else if ((await detectFormat(path)) === 'tfgraph') {
    if (tag !== undefined)
      throw new UsageError('--tag selects a SavedModel MetaGraph; a frozen GraphDef has one graph');
    ops = await graphDefOpCoverage(path);
  } else {
    throw new UsageError(
      `--ops lists the ops of a SavedModel folder or a frozen GraphDef; ${path} is neither`,
    );
  }
  if (json) {
    printJson(io, ops);
    return 0;
  }
  const count = (status: string) => ops.filter((o) => o.status === status).length;
  const rows = ops.map((o) => [MARKS[o.status], o.op, String(o.count)]);
  io.stdout.write(
    `${indent(formatTable(['', 'op', 'nodes'], rows))}\n\n${ops.length} ops: ${count('covered')} converted (+), ${count('inlined')} inlined calls (~), ${count('uncovered')} not converted (-)\n`,
  );
  return 0;
}

function shapeText(shape: readonly (number | string)[] | null): string {
  return shape === null ? '(unknown rank)' : `[${shape.join(', ')}]`;
}

function printReport(io: CliIO, report: InspectReport): void {
  const out: string[] = [];
  out.push(`${t(report.path)}: ${report.format}`);
  for (const [key, value] of Object.entries(report.details ?? {})) {
    if (value !== null && typeof value === 'object') continue;
    out.push(`  ${t(key)}: ${t(String(value))}`);
  }
  const metadata = Object.entries(report.metadata);
  if (metadata.length > 0) {
    out.push('', 'metadata:');
    for (const [key, value] of metadata)
      out.push(`  ${t(key)}: ${t(value.length > 200 ? `${value.slice(0, 200)}...` : value)}`);
  }
  for (const [title, specs] of [
    ['inputs', report.inputs],
    ['outputs', report.outputs],
  ] as const) {
    if (!specs) continue;
    out.push('', `${title}:`);
    out.push(
      indent(
        formatTable(
          ['name', 'dtype', 'shape'],
          specs.map((s) => [s.name, s.dtype, shapeText(s.shape)]),
        ),
      ),
    );
  }
  for (const signature of report.signatures ?? []) {
    out.push('', t(`signature ${signature.key}${signature.method ? ` (${signature.method})` : ''}:`));
    for (const [title, specs] of [
      ['input', signature.inputs],
      ['output', signature.outputs],
    ] as const) {
      for (const s of specs)
        out.push(
          `  ${title} ${t(`${s.name}: ${s.dtype} ${shapeText(s.shape)}${s.tensorName ? ` <- ${s.tensorName}` : ''}`)}`,
        );
    }
  }
  for (const [key, value] of Object.entries(report.details ?? {})) {
    if (value === null || typeof value !== 'object') continue;
    out.push('', `${t(key)}:`);
    if (Array.isArray(value))
      for (const item of value)
        out.push(`  ${t(typeof item === 'object' ? JSON.stringify(item) : String(item))}`);
    else
      for (const [k, v] of Object.entries(value))
        out.push(`  ${t(k)}: ${t(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  }
  if (report.tensors.length > 0) {
    out.push('', 'tensors:');
    out.push(
      indent(
        formatTable(
          ['name', 'dtype', 'shape', 'bytes'],
          report.tensors.map((t) => [t.name, t.dtype, shapeText(t.shape), t.bytes]),
        ),
      ),
    );
  }
  if (report.opaque && report.opaque.length > 0) {
    out.push('', 'tensors ferry reports but does not convert:');
    out.push(
      indent(
        formatTable(
          ['name', 'type', 'shape', 'bytes', 'why'],
          report.opaque.map((t) => [t.name, t.type, shapeText(t.shape), t.byteLength, t.reason]),
        ),
      ),
    );
  }
  for (const finding of report.findings ?? []) {
    out.push(
      t(
        `${finding.severity.toUpperCase()} ${finding.rule}: ${finding.message}${finding.location ? ` (${finding.location})` : ''}`,
      ),
    );
  }
  const count = report.tensors.length + (report.opaque?.length ?? 0);
  out.push(
    '',
    `${formatCount(count)} tensors, ${formatCount(report.parameters)} parameters, ${formatBytes(report.bytes)}`,
  );
  io.stdout.write(`${out.join('\n')}\n`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
