import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_REGISTRY, RegistryClient } from '@ferry/registry-client';
import { HTTP_PROTOCOLS, stringOption, urlOption } from './options.js';
import type { OptionSpec, ParsedArgs } from './command.js';

/** Options every registry command takes. */
export const REGISTRY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  registry: {
    type: 'string',
    valueName: 'URL',
    description: `registry URL (else FERRY_REGISTRY, else ${DEFAULT_REGISTRY})`,
  },
  token: {
    type: 'string',
    valueName: 'TOKEN',
    description: 'API token (else FERRY_TOKEN, else the one saved by ferry login)',
  },
};

/** Where `ferry login` keeps tokens, one per registry URL (mode 0600). */
export function credentialsPath(): string {
  const base =
    process.env.FERRY_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'ferry');
  return join(base, 'credentials.json');
}

export async function readCredentials(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(credentialsPath(), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export async function saveCredential(url: string, token: string): Promise<string> {
  const path = credentialsPath();
  const all = await readCredentials();
  all[url] = token;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export function registryUrl(args: ParsedArgs): string {
  return (
    urlOption(args.values, 'registry', HTTP_PROTOCOLS) ??
    process.env.FERRY_REGISTRY ??
    DEFAULT_REGISTRY
  ).replace(/\/+$/, '');
}

/** The client for --registry / FERRY_REGISTRY, authenticated by --token / FERRY_TOKEN / saved login. */
export async function registryClient(args: ParsedArgs): Promise<RegistryClient> {
  const url = registryUrl(args);
  const token =
    stringOption(args.values, 'token') ?? process.env.FERRY_TOKEN ?? (await readCredentials())[url];
  return new RegistryClient({ url, ...(token && { token }) });
}
