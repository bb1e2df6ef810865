/**
 * Runs bench/lib/serve-load.ts (the load generator) in its own process and returns what it
 * measured: the serve suites share it so every served number comes from the same client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

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
}

export interface Load {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

export async function runLoad(options: LoadOptions): Promise<Load> {
  const { stdout } = await exec(
    process.execPath,
    ['--import', 'tsx', 'bench/lib/serve-load.ts', JSON.stringify(options)],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as Load;
}

/** A counter's value for one model version in Prometheus text (0 when absent). */
export function counterOf(text: string, name: string, model: string, version = '1'): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{model="${model}",version="${version}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
