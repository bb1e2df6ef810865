import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenProblem, upToken } from './token.js';

describe('the token ferry up hands its inference server', () => {
  let data: string;
  let registry: RegistryServer & { url: string };
  let admin: string;
  const file = () => join(data, 'admin-token');

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'ferry-up-token-'));
    registry = await startRegistry({
      data,
      port: 0,
      host: '127.0.0.1',
      log: () => undefined,
      webhooks: false,
    });
    admin = registry.adminToken!;
  });

  afterAll(async () => {
    await registry?.close();
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('prefers the first-start token, then DATA/admin-token, then FERRY_TOKEN', async () => {
    const env = { FERRY_TOKEN: ' ferry_from_env \n' };
    expect(await upToken('ferry_first', file(), env)).toEqual({
      token: 'ferry_first',
      source: 'first-start',
    });
    expect(await upToken(undefined, file(), env)).toEqual({ token: 'ferry_from_env', source: 'env' });
    expect(await upToken(undefined, file(), {})).toEqual({ token: undefined, source: 'none' });
    await writeFile(file(), `${admin}\n`);
    expect(await upToken(undefined, file(), env)).toEqual({ token: admin, source: 'file' });
  });

  it('says why the server cannot act for an admin: no token, or one the registry refuses', async () => {
    const anonymous = new RegistryClient({ url: registry.url });
    expect(await tokenProblem(anonymous, 'none', file())).toBe(
      `ferry up: no admin token in ${file()} or FERRY_TOKEN: the inference server serves public deployments only and cannot report their state; set FERRY_TOKEN to a token with write access (the first start on this database wrote one to its data folder)`,
    );
    const refused = new RegistryClient({ url: registry.url, token: `ferry_${'x'.repeat(43)}` });
    expect(await tokenProblem(refused, 'env', file())).toMatch(
      /^ferry up: the token from FERRY_TOKEN is not accepted by this registry: the inference server serves public deployments only/,
    );
    const accepted = new RegistryClient({ url: registry.url, token: admin });
    expect(await tokenProblem(accepted, 'file', file())).toBeUndefined();
  });
});
