import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, describe, expect, it } from 'vitest';
import { type FerryProcess, spawnRegistry } from './processes.helper.js';

const MODEL = new URL('../../../fixtures/safetensors/small.safetensors', import.meta.url).pathname;

// `ferry registry serve --data ./data`, a relative folder as a user types it: pushes are scanned
// and pulled as with an absolute folder (the blob store keeps its root absolute, so the paths it
// hands to scans, links and spools do not depend on the working directory).
describe('registry serve with a relative --data folder', () => {
  let work: string;
  let registry: FerryProcess | undefined;
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('scans and serves a pushed model as with an absolute folder', async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-reldata-'));
    registry = await spawnRegistry(['--data', './data', '--auth', 'none'], work);
    const client = new RegistryClient({ url: registry.url });
    const version = await client.push(MODEL, { model: 'team/relative' });
    expect(version.scan).toBe('safe');
    const pulled = await client.pull('models:/team/relative/1', join(work, 'out'));
    expect(pulled.files.map((f) => f.path)).toEqual(['small.safetensors']);
  });
});
