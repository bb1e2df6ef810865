import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed fixture project (fixtures/bundle/), made by fixtures/make/bundle_project.py. */
export const FIXTURE_PROJECT = fileURLToPath(new URL('../../../fixtures/bundle/', import.meta.url));

/** A fresh copy of the fixture project in a temp folder (tests only), so a test may change it. */
export async function copyFixtureProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-project-'));
  await cp(FIXTURE_PROJECT, dir, { recursive: true });
  return dir;
}
