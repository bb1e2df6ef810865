import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const BENCHMARKS = new URL('../../BENCHMARKS.md', import.meta.url);

/** The machine a result was measured on, as one line for BENCHMARKS.md. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/**
 * Replaces (or appends) one suite's section of BENCHMARKS.md, between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so suites can be rerun independently.
 */
export function writeSection(name: string, title: string, command: string, body: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n## ${title}\n\nCommand: \`${command}\`  \nMachine: ${machineLine()}\n\n${body.trim()}\n${end}`;
  let text = existsSync(BENCHMARKS)
    ? readFileSync(BENCHMARKS, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench -- SUITE`; each section is replaced when its suite runs again.\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + section + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS, text);
}

/** A markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Runs `fn` `repeat` times and returns the median seconds (the machine is shared and noisy). */
export async function medianSeconds(repeat: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Wall seconds of a shell command (for baselines such as `cat FILE > /dev/null`). */
export function shellSeconds(command: string): number {
  const start = process.hrtime.bigint();
  execFileSync('bash', ['-c', command], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e9;
}
