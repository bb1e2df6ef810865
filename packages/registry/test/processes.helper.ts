import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../../../scripts/test/children.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export interface FerryProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** SIGTERM (clean) or SIGKILL (crash), and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `ferry registry serve ARGS` in its own process (the built CLI, as a user runs it: `npm
 * test` builds it first); resolves once it listens.
 */
export async function spawnRegistry(args: readonly string[], cwd?: string): Promise<FerryProcess> {
  const child = track(
    spawn(process.execPath, [here('../../cli/bin/ferry.js'), 'registry', 'serve', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd !== undefined && { cwd }),
    }),
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // a start that failed must not leave the process behind
      child.kill('SIGKILL');
      reject(new Error(`registry did not start in 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}
