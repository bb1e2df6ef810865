/**
 * Runs the built `ferry` binary (packages/cli/bin/ferry.js, what users run) in a child process.
 * The registry's tests drive the CLI as a user would: an engine's tests never import the CLI's
 * sources (ARCHITECTURE.md rule 5). `npx tsc -b packages/cli` builds the dist it runs.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../../../scripts/test/children.js';

const BIN = fileURLToPath(new URL('../../cli/bin/ferry.js', import.meta.url));

/** `ferry ARGV`: its exit code and what it printed (the environment is this process's, as now). */
export function ferry(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
