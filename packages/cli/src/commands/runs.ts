import type { RegistryClient } from '@ferry/registry-client';
import type { Command, ParsedArgs } from '../command.js';
import { formatTable } from '../format-table.js';
import { type CliIO, printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import {
  enumOption,
  nonNegativeInteger,
  type OptionValues,
  positiveInteger,
  stringList,
  stringOption,
} from '../options.js';
import { UsageError } from '../usage-error.js';

const RUN_STATUSES = ['running', 'finished', 'failed', 'killed'] as const;

/** `k=v` pairs from repeated options. */
function pairs(values: OptionValues, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of stringList(values, what) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${what} takes KEY=VALUE, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'record and list training runs: params, metrics, input datasets',
  usage:
    'runs create [--name N] [--param K=V] [--tag K=V] [--input NAME@SHA256] | runs log ID [--metric K=V[@STEP]] [--param K=V] [--status S] | runs show ID | runs ls [--limit N] [--offset N]',
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'create: run name' },
    param: {
      type: 'string',
      multiple: true,
      valueName: 'K=V',
      description: 'a parameter (repeatable; logged once)',
    },
    tag: { type: 'string', multiple: true, valueName: 'K=V', description: 'a tag (repeatable)' },
    metric: {
      type: 'string',
      multiple: true,
      valueName: 'K=V[@STEP]',
      description: 'log: a metric value, optionally at a step (repeatable)',
    },
    input: {
      type: 'string',
      multiple: true,
      valueName: 'NAME@DIGEST',
      description: 'create: an input dataset (repeatable; lineage dataset -> run)',
    },
    status: { type: 'string', valueName: 'STATUS', description: 'log: running, finished, failed or killed' },
    limit: { type: 'string', valueName: 'N', description: 'ls: at most N runs, newest first (default 100)' },
    offset: { type: 'string', valueName: 'N', description: 'ls: skip the N newest (the next page)' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [sub, id, ...rest] = args.positionals;
    if (rest.length > 0) throw new UsageError('too many arguments');
    const client = await registryClient(args);
    if (sub === 'ls' && !id) return listRuns(client, args, io);
    let run: Awaited<ReturnType<typeof client.getRun>>;
    if (sub === 'create' && !id) {
      const name = stringOption(args.values, 'name');
      const inputs = (stringList(args.values, 'input') ?? []).map((text) => {
        const at = text.lastIndexOf('@');
        if (at <= 0) throw new UsageError(`--input takes NAME@DIGEST, got ${JSON.stringify(text)}`);
        return { name: text.slice(0, at), digest: text.slice(at + 1) };
      });
      run = await client.createRun({
        ...(name && { name }),
        params: pairs(args.values, 'param'),
        tags: pairs(args.values, 'tag'),
        inputs,
      });
      if (!args.values.json) {
        io.stdout.write(`${run.id}\n`);
        return 0;
      }
    } else if (sub === 'log' && id) {
      // A list, not a map: the same metric is logged at several steps in one call.
      const metrics = (stringList(args.values, 'metric') ?? []).map((item) => {
        // a decimal (sign and exponent allowed), not whatever Number() takes: Number(' ') is 0
        const match = /^([^=]+)=(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?)(?:@(\d{1,15}))?$/.exec(item);
        if (!match || !Number.isFinite(Number(match[2])))
          throw new UsageError(`--metric takes KEY=NUMBER[@STEP], got ${JSON.stringify(item)}`);
        return {
          key: match[1]!,
          value: Number(match[2]),
          ...(match[3] !== undefined && { step: Number(match[3]) }),
        };
      });
      const status = enumOption(args.values, 'status', RUN_STATUSES);
      run = await client.logRun(id, {
        params: pairs(args.values, 'param'),
        tags: pairs(args.values, 'tag'),
        metrics,
        ...(status && { status }),
      });
    } else if (sub === 'show' && id) {
      run = await client.getRun(id);
    } else throw new UsageError('runs takes create, log ID, show ID or ls');
    if (args.values.json) {
      printJson(io, run);
      return 0;
    }
    const out = [
      `run ${run.id} (${run.name}): ${run.status}, started ${run.startTime}${run.endTime ? `, ended ${run.endTime}` : ''}`,
    ];
    for (const [title, map] of [
      ['params', run.params],
      ['tags', run.tags],
    ] as const) {
      const entries = Object.entries(map);
      if (entries.length) out.push(`  ${title}: ${entries.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    }
    if (run.metrics.length)
      out.push(
        '',
        formatTable(
          ['metric', 'step', 'value'],
          run.metrics.map((m) => [m.key, m.step, m.value]),
        ),
      );
    io.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};

/** Most runs one `runs ls` asks for: the registry's page limit (MAX_RUNS_PAGE in routes-runs.ts). */
const MAX_RUNS_LISTED = 1000;

/** `runs ls`: one line per run, newest first, a page at a time. */
async function listRuns(client: RegistryClient, args: ParsedArgs, io: CliIO): Promise<number> {
  const limit = positiveInteger(args.values, 'limit', MAX_RUNS_LISTED);
  const offset = nonNegativeInteger(args.values, 'offset');
  const page = await client.listRuns({
    ...(limit !== undefined && { limit }),
    ...(offset !== undefined && { offset }),
  });
  if (args.values.json) {
    printJson(io, page);
    return 0;
  }
  const lines = [
    formatTable(
      ['id', 'name', 'status', 'started', 'ended', 'by'],
      page.runs.map((r) => [r.id, r.name, r.status, r.startTime, r.endTime ?? '-', r.createdBy]),
    ),
  ];
  const from = offset ?? 0;
  if (from > 0 || from + page.runs.length < page.total)
    lines.push(`(runs ${from + 1}-${from + page.runs.length} of ${page.total}; --offset N for others)`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
