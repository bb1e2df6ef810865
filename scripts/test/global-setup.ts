import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PID_DIR_ENV, startTime } from './children.js';

/**
 * Vitest global setup: a folder for the PID files of the servers tests start (children.ts), and a
 * teardown that kills whatever is still running from it, so a failed run leaves no processes.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-test-pids-'));
  // the test workers are forked after this and inherit it
  process.env[PID_DIR_ENV] = dir;
  return () => {
    const killed: string[] = [];
    for (const name of readdirSync(dir)) {
      const pid = Number(name);
      const [recorded = '', command = ''] = readFileSync(join(dir, name), 'utf8').split('\n');
      if (Number.isInteger(pid) && recorded !== '' && startTime(pid) === recorded) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.push(`${pid} (${command})`);
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (killed.length > 0)
      console.warn(
        `test teardown: killed ${killed.length} server process(es) tests left running: ${killed.join(', ')}`,
      );
  };
}
