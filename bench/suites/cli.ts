/**
 * `npm run bench -- cli`: how long the CLI takes to start and answer (issue #23), as a user runs
 * it (`node packages/cli/bin/ferry.js`, the built dist): --help, --version, inspect of a small
 * safetensors, scan of a small pickle, convert of a small checkpoint, beside `node -e ''` (the
 * floor: Node's own start). Each 10 times, interleaved so that load on the machine falls on all
 * alike; median wall time and median CPU (user + system, from /usr/bin/time).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, writeSection } from '../lib/report.js';

const REPEAT = 10;
const BIN = fileURLToPath(new URL('../../packages/cli/bin/ferry.js', import.meta.url));
const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));
/** The goals of issue #23 (wall seconds, median of 10). */
const GOALS: Record<string, number> = { help: 0.15, version: 0.15, inspect: 0.3, scan: 0.3 };

interface Case {
  readonly key: string;
  readonly label: string;
  readonly argv: readonly string[];
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One run under /usr/bin/time: wall and CPU seconds. The exit code is not checked (scan finds things: 1). */
function timed(argv: readonly string[], out: string): { wall: number; cpu: number } {
  const report = join(out, 'time.txt');
  const start = process.hrtime.bigint();
  try {
    execFileSync('/usr/bin/time', ['-f', '%U %S', '-o', report, process.execPath, ...argv], {
      stdio: 'ignore',
    });
  } catch (error) {
    if ((error as { status?: number }).status !== 1) throw error;
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const [user, system] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: user! + system! };
}

export async function run(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'ferry-bench-cli-'));
  const cases: Case[] = [
    { key: 'node', label: "`node -e ''` (floor)", argv: ['-e', ''] },
    { key: 'help', label: '`ferry --help`', argv: [BIN, '--help'] },
    { key: 'version', label: '`ferry --version`', argv: [BIN, '--version'] },
    {
      key: 'inspect',
      label: '`ferry inspect` (safetensors, 1 KB)',
      argv: [BIN, 'inspect', fixture('safetensors/all_dtypes.safetensors')],
    },
    {
      key: 'scan',
      label: '`ferry scan` (pickle, 100 B)',
      argv: [BIN, 'scan', fixture('pickle/corpus/pip_main.pkl')],
    },
    {
      key: 'convert',
      label: '`ferry convert` (PyTorch checkpoint, 4 KB, to safetensors)',
      argv: [BIN, 'convert', fixture('pickle/torch/dtypes.pt'), '-o', join(out, 'out.safetensors')],
    },
  ];
  const load = loadavg()[0]!;
  const runs = new Map(cases.map((c) => [c.key, [] as { wall: number; cpu: number }[]]));
  try {
    for (let i = 0; i < REPEAT; i++)
      for (const c of cases) {
        rmSync(join(out, 'out.safetensors'), { force: true });
        runs.get(c.key)!.push(timed(c.argv, out));
      }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const floor = median(runs.get('node')!.map((r) => r.wall));
  const cpuFloor = median(runs.get('node')!.map((r) => r.cpu));
  const rows = cases.map((c) => {
    const wall = median(runs.get(c.key)!.map((r) => r.wall));
    const cpu = median(runs.get(c.key)!.map((r) => r.cpu));
    const goal = GOALS[c.key];
    const met = goal === undefined ? '' : wall <= goal && wall <= 3 * floor ? 'met' : 'not met';
    return [
      c.label,
      wall.toFixed(3),
      cpu.toFixed(3),
      (wall / floor).toFixed(1),
      (cpu / cpuFloor).toFixed(1),
      goal === undefined ? '-' : `wall <= ${goal} s and <= 3x node: ${met}`,
    ];
  });
  const table = markdownTable(
    ['command', 'wall s (median of 10)', 'CPU s (median)', 'wall x node', 'CPU x node', 'goal (#23)'],
    rows,
  );
  console.log(table);
  writeSection(
    'cli',
    'CLI start-up: ferry --help, --version, inspect, scan, convert vs node',
    'npm run bench -- cli',
    `${table}\n\nLoad average (1 min) when the run started: ${load.toFixed(2)}${load > 1 ? ' (a shared, busy machine: wall times include waiting for a core; CPU times do not)' : ''}.${floor > Math.min(...Object.values(GOALS)) ? ` Here even \`node -e ''\` takes ${floor.toFixed(2)} s of wall time, over the --help goal: the CPU columns are the figures this load does not distort.` : ''} The built CLI (\`node packages/cli/bin/ferry.js\`), each case 10 times, interleaved.`,
  );
}
