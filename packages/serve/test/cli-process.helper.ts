import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../../../scripts/test/children.js';

/** The repository root: the real CLI runs from there (packages/cli/bin/ferry.js, built by tsc -b). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** stdout lines so far: pino JSON logs and the --json ports line. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

/** `ferry serve ARGS --json` in its own process; resolves once it prints its ports. */
export function startCli(args: string[]): Promise<CliServer> {
  const child = track(
    spawn(process.execPath, ['packages/cli/bin/ferry.js', 'serve', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        const doc = JSON.parse(line) as { httpPort?: number; level?: number };
        // the --json line (ports) is the one without a pino log level
        if (doc.level === undefined && doc.httpPort) resolve({ child, port: doc.httpPort, lines, exited });
      }
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`ferry serve exited ${code}: ${stderr}`)));
  });
}
