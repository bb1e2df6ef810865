import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (scripts/install-system-deps.sh), never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const UI_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const ARTIFACTS = join(REPO, 'test-artifacts', 'ui');
export const hasChromium = existsSync(CHROMIUM);

/** Builds the UI as `npm ci` does (root prepare script), so a test runs what users get. */
export function buildUi(): string {
  execFileSync(
    process.execPath,
    [join(REPO, 'node_modules/vite/bin/vite.js'), 'build', UI_ROOT, '--logLevel', 'warn'],
    {
      stdio: 'inherit',
      // vitest sets NODE_ENV=test, which would make Vite build Preact's development bundle.
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  return join(UI_ROOT, 'dist');
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Headless chromium with a throwaway profile. Nothing may leave the machine: every request goes
 * to 127.0.0.1 (the registry, or a metrics server a test starts on loopback) or is aborted.
 */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'ferry-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return url.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
