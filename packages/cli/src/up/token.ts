import { readFile } from 'node:fs/promises';
import type { RegistryClient } from '@ferry/registry-client';

/** Where the token `ferry up` hands its inference server came from. */
export type TokenSource = 'first-start' | 'file' | 'env' | 'none';

/**
 * The token the inference server uses (list private deployments, report their state, subscribe to
 * alias moves): the one this start created, else DATA/admin-token, else $FERRY_TOKEN. The last
 * matters for a second `ferry up` on a shared database (`--db postgres://...`) with a fresh data
 * folder: the first admin token was created by another start and is not in this folder.
 */
export async function upToken(
  firstStart: string | undefined,
  tokenFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ token: string | undefined; source: TokenSource }> {
  if (firstStart) return { token: firstStart, source: 'first-start' };
  const kept = (await readFile(tokenFile, 'utf8').catch(() => '')).trim();
  if (kept !== '') return { token: kept, source: 'file' };
  const fromEnv = env.FERRY_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'env' };
  return { token: undefined, source: 'none' };
}

/**
 * What the user should know when the server cannot act for an admin: without a token, or with one
 * this registry refuses, it serves public deployments only and cannot report what it serves.
 */
export async function tokenProblem(
  client: RegistryClient,
  source: TokenSource,
  tokenFile: string,
): Promise<string | undefined> {
  const limits =
    'the inference server serves public deployments only and cannot report their state; set FERRY_TOKEN to a token with write access (the first start on this database wrote one to its data folder)';
  if (source === 'none') return `ferry up: no admin token in ${tokenFile} or FERRY_TOKEN: ${limits}`;
  const who = await client.whoami().catch(() => undefined);
  if (!who || who.anonymous)
    return `ferry up: the token from ${source === 'env' ? 'FERRY_TOKEN' : tokenFile} is not accepted by this registry: ${limits}`;
  return undefined;
}
