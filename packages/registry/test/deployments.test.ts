import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import { ferry } from './ferry-cli.helper.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/deploy/', import.meta.url));

for (const { name, open } of BACKENDS) {
  describe(`deployments API (${name})`, async () => {
    const backend = await open();
    if (!backend) {
      it.skip(`${name} is not available here`, () => undefined);
      return;
    }
    let server: RegistryServer & { url: string };
    let admin: RegistryClient;
    let anonymous: RegistryClient;
    let reader: RegistryClient;

    beforeAll(async () => {
      server = await startServer(backend as Backend);
      admin = new RegistryClient({ url: server.url, token: server.adminToken });
      anonymous = new RegistryClient({ url: server.url });
      await admin.push(join(FIXTURES, 'v1'), { model: 'team/pub', alias: 'prod' });
      await admin.push(join(FIXTURES, 'v1'), { model: 'team/secret', alias: 'prod', visibility: 'private' });
      const created = await admin.createToken('rita', ['read:*']);
      reader = new RegistryClient({ url: server.url, token: (created as { token: string }).token });
    });

    afterAll(async () => {
      await server?.close();
      await backend.cleanup();
    });

    it('creates, changes, reports and removes a deployment, each audited', async () => {
      const created = await admin.putDeployment('pub', {
        model: 'team/pub',
        alias: 'prod',
        config: { max_batch_size: 8 },
      });
      expect(created).toMatchObject({
        name: 'pub',
        uri: 'models:/team/pub@prod',
        status: 'pending',
        liveVersion: null,
        config: { max_batch_size: 8 },
      });
      const reported = await admin.reportDeployment('pub', {
        status: 'serving',
        liveVersion: 1,
        endpoint: 'http://127.0.0.1:9',
      });
      expect(reported).toMatchObject({ status: 'serving', liveVersion: 1, endpoint: 'http://127.0.0.1:9' });
      // the same target again keeps the reported state; a new target resets it
      expect(await admin.putDeployment('pub', { model: 'team/pub', alias: 'prod' })).toMatchObject({
        status: 'serving',
        liveVersion: 1,
        config: null,
      });
      expect(await admin.putDeployment('pub', { model: 'team/pub', alias: 'canary' })).toMatchObject({
        status: 'pending',
        liveVersion: null,
      });
      const actions = (await admin.audit({ target: 'deployment:pub' })).map((e) => e.action);
      expect(actions).toEqual([
        'deployment.create',
        'deployment.report',
        'deployment.update',
        'deployment.update',
      ]);
      await admin.deleteDeployment('pub');
      await expect(admin.getDeployment('pub')).rejects.toMatchObject({ code: 'FERRY_REGISTRY_NOT_FOUND' });
    });

    it('hides deployments of private models and needs write to change them', async () => {
      await admin.putDeployment('secret', { model: 'team/secret', alias: 'prod' });
      await admin.putDeployment('pub2', { model: 'team/pub', alias: 'prod' });
      expect((await anonymous.listDeployments()).map((d) => d.name)).toEqual(['pub2']);
      await expect(anonymous.getDeployment('secret')).rejects.toMatchObject({ http: 404 });
      expect((await reader.listDeployments()).map((d) => d.name)).toEqual(['pub2', 'secret']);
      await expect(reader.putDeployment('x', { model: 'team/pub', alias: 'prod' })).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_FORBIDDEN',
      });
      await expect(
        reader.reportDeployment('pub2', { status: 'serving', liveVersion: 1 }),
      ).rejects.toMatchObject({ code: 'FERRY_REGISTRY_FORBIDDEN' });
      await expect(anonymous.deleteDeployment('pub2')).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_UNAUTHORIZED',
      });
    });

    it('refuses bad names, unknown fields and unknown models before anything changes', async () => {
      const put = (name: string, body: unknown) =>
        admin.request('PUT', `/api/v1/deployments/${encodeURIComponent(name)}`, { json: body });
      await expect(put('../x', { model: 'team/pub', alias: 'prod' })).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_BAD_REQUEST',
      });
      await expect(put('ok', { model: 'team/pub', alias: 'prod', colour: 'red' })).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_BAD_REQUEST',
      });
      await expect(put('ok', { model: 'team/none', alias: 'prod' })).rejects.toMatchObject({ http: 404 });
      await expect(put('ok', { model: 'team/pub', alias: 'bad alias' })).rejects.toMatchObject({
        code: 'FERRY_REGISTRY_BAD_NAME',
      });
      await expect(
        admin.request('POST', '/api/v1/deployments/pub2/status', {
          json: { status: 'sleeping', liveVersion: 1 },
        }),
      ).rejects.toMatchObject({ code: 'FERRY_REGISTRY_BAD_REQUEST' });
      await expect(admin.getDeployment('ok')).rejects.toMatchObject({ http: 404 });
    });

    it('ferry deploy: follows an alias, checks the config, lists and removes', async () => {
      const auth = ['--registry', server.url, '--token', server.adminToken!];
      const config = join(await mkdtemp(join(tmpdir(), 'ferry-deploy-cli-')), 'config.yaml');
      await writeFile(config, 'max_batch_size: 4\ndynamic_batching:\n  max_queue_delay_us: 100\n');
      const made = await ferry('deploy', 'models:/team/pub@prod', '--config', config, ...auth);
      expect(made.stderr).toBe('');
      expect(made.stdout).toContain('deployment team-pub: follows models:/team/pub@prod (version 1 now)');
      expect((await admin.getDeployment('team-pub')).config).toEqual({
        max_batch_size: 4,
        dynamic_batching: { max_queue_delay_us: 100 },
      });
      await writeFile(config, 'max_batch_size: many\n');
      const bad = await ferry('deploy', 'models:/team/pub@prod', '--config', config, ...auth);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('max_batch_size');
      const pinned = await ferry('deploy', 'models:/team/pub/1', ...auth);
      expect(pinned.code).toBe(2);
      expect(pinned.stderr).toContain('deploy follows an alias');
      const missing = await ferry('deploy', 'models:/team/pub@nope', ...auth);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('FERRY_REGISTRY_NOT_FOUND');
      const ls = await ferry('deploy', 'ls', '--model', 'team/pub', ...auth);
      expect(ls.stdout.split('\n')[0]).toMatch(/^name +follows +live +status/);
      expect(ls.stdout).toMatch(/team-pub +models:\/team\/pub@prod +- +pending/);
      expect((await ferry('deploy', 'rm', 'team-pub', ...auth)).stdout).toBe('removed deployment team-pub\n');
    });
  });
}
