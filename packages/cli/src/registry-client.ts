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

/** Removes the token saved for `url`; false when there was none. Written like saveCredential. */
export async function forgetCredential(url: string): Promise<boolean> {
  const all = await readCredentials();
  if (!Object.hasOwn(all, url)) return false;
  delete all[url];
  const path = credentialsPath();
  await writeFile(path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return true;
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
  const token = await registryToken(args);
  return new RegistryClient({ url, ...(token && { token }) });
}

/** The token a registry command sends: --token, else FERRY_TOKEN, else the one ferry login saved. */
export async function registryToken(args: ParsedArgs): Promise<string | undefined> {
  return (
    stringOption(args.values, 'token') ||
    process.env.FERRY_TOKEN ||
    (await readCredentials())[registryUrl(args)] ||
    undefined
  );
}

/**
 * What to say after a registry's 401 (the registry's answer to a call without a token, or with
 * one it does not know): how to give a token (issue #25: name FERRY_TOKEN and ferry login).
 */
export async function tokenHint(args: ParsedArgs, code: string): Promise<string | undefined> {
  if (code !== 'FERRY_REGISTRY_UNAUTHORIZED') return undefined;
  return (await registryToken(args))
    ? 'the registry refused the token: give another with --token or FERRY_TOKEN, or run ferry login again'
    : 'no token was given: set FERRY_TOKEN, pass --token, or run ferry login';
}
