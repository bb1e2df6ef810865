import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * @ferry/registry-client is what ferry serve, ferry bundle and the CLI's client commands load to
 * talk to a registry: it must not drag in the server (fastify, its plugins) nor its database
 * drivers (better-sqlite3's native addon, pg). Checked twice: the declared dependencies, and what a
 * fresh Node process really resolves when it imports the package's index.
 */
const SERVER_PACKAGES = ['fastify', '@fastify/', 'better-sqlite3', 'pg', 'pino', 'yaml'];
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const INDEX = here('../src/index.ts');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-rclient-imports-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every module URL a fresh `node` resolves while importing MODULE (a path or a name). */
async function urlsLoadedBy(module: string, name: string): Promise<string[]> {
  const record = join(dir, `${name}.txt`);
  await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      here('./child/record-imports.mjs'),
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(module)});`,
    ],
    { env: { ...process.env, FERRY_RECORD_IMPORTS: record } },
  );
  return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
}

/** The npm packages (under node_modules) among URLS. */
function packagesOf(urls: readonly string[]): string[] {
  const names = urls.flatMap((url) => {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    return match ? [match[1]!] : [];
  });
  return [...new Set(names)].sort();
}

const isServerPackage = (name: string) =>
  SERVER_PACKAGES.some((p) => (p.endsWith('/') ? name.startsWith(p) : name === p));

describe('@ferry/registry-client loads no server code', () => {
  it('declares none of the server packages as a dependency', async () => {
    const pkg = JSON.parse(await readFile(here('../package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const deps = Object.keys(pkg.dependencies ?? {});
    expect(deps.filter(isServerPackage)).toEqual([]);
    expect(deps).not.toContain('@ferry/registry');
  });

  it('the recorder sees a server package when one is imported (the check can fail)', async () => {
    expect(packagesOf(await urlsLoadedBy('fastify', 'control'))).toContain('fastify');
  });

  it('importing the index in a fresh process resolves no server package', async () => {
    const urls = await urlsLoadedBy(INDEX, 'index');
    expect(urls).toContain(pathToFileURL(join(here('../src'), 'client.ts')).href);
    expect(packagesOf(urls).filter(isServerPackage)).toEqual([]);
    // of ferry's packages it loads only itself and formats (workspace links resolve to packages/)
    const ours = new Set(urls.flatMap((url) => /\/packages\/([^/]+)\//.exec(url)?.[1] ?? []));
    expect([...ours].sort()).toEqual(['formats', 'registry-client']);
  });
});
