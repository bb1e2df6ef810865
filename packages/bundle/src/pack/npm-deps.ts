import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleError } from '../errors.js';

/** npm ci of a large dependency tree on a slow disk; past this the pack gives up. */
const NPM_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Installs a handler's production dependencies from its package-lock.json into a fresh temp
 * folder with `npm ci --omit=dev --ignore-scripts --no-bin-links` (no install scripts run: they
 * would execute code at pack time; no bin links: bundles hold no symbolic links). npm's cache is
 * preferred (`--prefer-offline`), so a machine that installed the lock once packs offline.
 * Returns the temp folder (holding node_modules/ unless the lock has no dependencies); the
 * caller removes it.
 */
export async function installDependencies(lockfile: string): Promise<string> {
  const project = dirname(lockfile);
  const work = await mkdtemp(join(tmpdir(), 'ferry-npm-'));
  try {
    await copyFile(join(project, 'package.json'), join(work, 'package.json'));
    await copyFile(lockfile, join(work, 'package-lock.json'));
    await new Promise<void>((resolve, reject) => {
      execFile(
        'npm',
        [
          'ci',
          '--omit=dev',
          '--ignore-scripts',
          '--no-bin-links',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
        ],
        {
          cwd: work,
          timeout: NPM_TIMEOUT_MS,
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
        },
        (error, _stdout, stderr) => {
          if (!error) return resolve();
          const line =
            stderr
              .split('\n')
              .find((l) => /npm (error|ERR!)/.test(l) && !/A complete log/.test(l))
              ?.replace(/^npm (error|ERR!)\s*/, '') ?? error.message;
          reject(bundleError('FERRY_BUNDLE_NPM', { path: lockfile, reason: line.trim() }, error));
        },
      );
    });
    return work;
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
