import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerizeBundle } from '../../src/containerize/containerize.js';
import { DEFAULT_FERRY_IMAGE, FERRY_IMAGE_BUILD } from '../../src/containerize/runtime-image.js';
import { packBundle } from '../../src/pack/pack.js';
import { FIXTURE_PROJECT } from '../test-project.helper.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CI = process.env.CI === 'true';

/** Dockerfile instructions (word, rest), continuations joined, comments dropped. */
function instructions(text: string): [string, string][] {
  return text
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [word, ...rest] = l.split(' ');
      return [word!, rest.join(' ')];
    });
}

/** COPY's sources (the last word is the destination; flags like --chown dropped). */
const copySources = (rest: string) =>
  rest
    .split(/\s+/)
    .filter((w) => !w.startsWith('--'))
    .slice(0, -1);

describe('docker/Dockerfile: the ferry runtime image bundle images start FROM', () => {
  it('is built under the tag containerize writes, from files the repository has', async () => {
    const text = await readFile(join(REPO, 'docker/Dockerfile'), 'utf8');
    // the build command its header documents is the one the CLI prints, with the default tag
    expect(text).toContain(`#   ${FERRY_IMAGE_BUILD}`);
    const pkg = JSON.parse(await readFile(join(REPO, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(DEFAULT_FERRY_IMAGE).toBe(`ferry:${pkg.version}`);
    const steps = instructions(text);
    const ignore = (await readFile(join(REPO, '.dockerignore'), 'utf8'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const [word, rest] of steps.filter(([w]) => w === 'COPY'))
      for (const source of copySources(rest)) {
        expect(existsSync(join(REPO, source)), `${word} ${source}`).toBe(true);
        expect(ignore.some((p) => p.replace(/^\*\*\//, '') === source.replace(/\/$/, ''))).toBe(false);
      }
    // `ferry` on PATH: the link points at the CLI's bin inside WORKDIR
    const workdir = steps.find(([w]) => w === 'WORKDIR')![1];
    const link = /ln -s (\S+) \/usr\/local\/bin\/ferry/.exec(text)!;
    expect(link[1]!.startsWith(`${workdir}/`)).toBe(true);
    expect(existsSync(join(REPO, link[1]!.slice(workdir.length + 1)))).toBe(true);
    // npm ci installs from the lock file, without onnxruntime-node's CUDA download
    expect(steps.some(([w, r]) => w === 'RUN' && r.includes('npm ci'))).toBe(true);
    expect(await readFile(join(REPO, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
  });
});

/** buildah (Debian's) builds without a daemon; a Dockerfile with no RUN needs no runtime at all. */
async function hasBuildah(): Promise<boolean> {
  return run('buildah', ['--version']).then(
    () => true,
    () => false,
  );
}

describe('a generated bundle Dockerfile builds for real (buildah)', async () => {
  const available = await hasBuildah();
  if (!available) {
    if (CI) throw new Error('buildah is missing and CI=true: run scripts/install-system-deps.sh as root');
    it.skip('buildah is not installed here (apt-get install buildah)', () => undefined);
    return;
  }
  let dir: string;
  const tag = `ferry-test-${process.pid}-${Date.now()}`;
  const base = `localhost/${tag}-base:1`;
  const image = `localhost/${tag}-bundle:1`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-image-'));
  });
  afterAll(async () => {
    await run('buildah', ['rmi', '-f', image, base]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('COPY, USER, ENTRYPOINT, CMD, HEALTHCHECK and labels land in the image as written', async () => {
    const bundle = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 'sentiment.ferry') })).path;
    const out = join(dir, 'context');
    await containerizeBundle(bundle, out, { image });
    // The runtime image cannot be built here (its base, node:20-bookworm-slim, is on Docker Hub,
    // which this machine cannot reach): an empty local image stands in for ferry:0.1.0. Every
    // instruction of the generated Dockerfile still runs for real against it.
    const container = (await run('buildah', ['from', 'scratch'])).stdout.trim();
    await run('buildah', ['commit', '--quiet', container, base]);
    await run('buildah', ['rm', container]);
    await run(
      'buildah',
      ['bud', '--quiet', '--format', 'docker', '--build-arg', `FERRY_IMAGE=${base}`, '-t', image, out],
      {
        maxBuffer: 16 * 2 ** 20,
      },
    );
    const inspected = JSON.parse(
      (await run('buildah', ['inspect', '--type', 'image', image], { maxBuffer: 16 * 2 ** 20 })).stdout,
    ) as {
      Docker: {
        config: {
          User: string;
          Entrypoint: string[];
          Cmd: string[];
          Labels: Record<string, string>;
          ExposedPorts: Record<string, unknown>;
          Healthcheck: { Test: string[] };
          WorkingDir: string;
        };
      };
    };
    const config = inspected.Docker.config;
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint).toEqual(['ferry', 'serve']);
    expect(config.Cmd[0]).toBe('/srv/ferry/bundle/sentiment-1.0.0.ferry');
    expect(config.WorkingDir).toBe('/srv/ferry');
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(['8000/tcp', '8001/tcp']);
    expect(config.Healthcheck.Test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256')
      .update(await readFile(bundle))
      .digest('hex');
    expect(config.Labels['dev.ferry.bundle.sha256']).toBe(sha);
    // the bundle is in the image, byte for byte, owned by root
    const working = (await run('buildah', ['from', image])).stdout.trim();
    try {
      const root = (await run('buildah', ['mount', working])).stdout.trim();
      const inImage = join(root, 'srv/ferry/bundle/sentiment-1.0.0.ferry');
      expect(await readFile(inImage)).toEqual(await readFile(bundle));
      expect((await lstat(inImage)).uid).toBe(0);
    } finally {
      await run('buildah', ['rm', working]).catch(() => undefined);
    }
  }, 120_000);
});
