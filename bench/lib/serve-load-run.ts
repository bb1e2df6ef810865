/**
 * Runs bench/lib/serve-load.ts (the load generator) in its own process and returns what it
 * measured: the serve suites share it so every served number comes from the same client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pinnedCommand } from './pinned-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);

export interface LoadOptions {
  readonly kind: 'json' | 'binary' | 'grpc';
  readonly port: number;
  /** Model name in the URL / gRPC request; its input is `x`, FP32 [1, features]. */
  readonly model: string;
  readonly features: number;
  readonly concurrency: number;
  readonly seconds: number;
  /** Input name (default x) and one row's shape (default [features]). */
  readonly input?: string;
  readonly rowShape?: readonly number[];
  /** Run the load generator on this CPU core only (`taskset -c`, pinned-process.ts). */
  readonly core?: number;
  /** The server's process id: the load reports its CPU over the measured seconds. */
  readonly serverPid?: number;
}

export interface Load {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** The tail in more detail (ms): where p99 sits against its neighbours says what the tail is. */
  readonly p90?: number;
  readonly p95?: number;
  readonly p999?: number;
  readonly max?: number;
  readonly errors: number;
  /** CPU time the load generator itself used during the measured seconds. */
  readonly cpuMs: number;
  /** With serverPid: the server's CPU over the same seconds, main thread and its other threads. */
  readonly serverMainMs?: number;
  readonly serverOthersMs?: number;
  /** ... and of those others the busiest thread's (a model's worker thread, where it has one). */
  readonly serverBusiestOtherMs?: number;
}

export async function runLoad(options: LoadOptions): Promise<Load> {
  const node = [process.execPath, '--import', 'tsx', 'bench/lib/serve-load.ts', JSON.stringify(options)];
  const [command, ...args] = options.core === undefined ? node : pinnedCommand(options.core, node);
  const { stdout } = await exec(command!, args, { cwd: ROOT });
  return JSON.parse(stdout) as Load;
}

/** A counter's value for one model version in Prometheus text (0 when absent). */
export function counterOf(text: string, name: string, model: string, version = '1'): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{model="${model}",version="${version}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export interface ServedLoad extends Load {
  /** Average rows per execution during the run, from the server's own counters. */
  readonly batch: number;
}

/** runLoad against a ferry server, with the average batch size its /metrics show for the run. */
export async function runServedLoad(metricsUrl: string, options: LoadOptions): Promise<ServedLoad> {
  const metrics = async () => (await fetch(metricsUrl)).text();
  const before = await metrics();
  const result = await runLoad(options);
  const after = await metrics();
  const delta = (name: string) =>
    counterOf(after, name, options.model) - counterOf(before, name, options.model);
  const batch = delta('ferry_inference_count_total') / Math.max(1, delta('ferry_inference_exec_count_total'));
  return { ...result, batch };
}

/** Whole numbers with thousands separators, and one decimal: the served tables' number formats. */
export const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
export const f1 = (n: number): string => n.toFixed(1);

/** A served run's table cells: req/s, p50 and p99 (ms), average batch, errors. */
export function servedCells(result: ServedLoad): (string | number)[] {
  return [f0(result.rps), f1(result.p50), f1(result.p99), result.batch.toFixed(1), result.errors];
}
