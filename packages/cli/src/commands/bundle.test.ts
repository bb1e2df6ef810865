import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTarIndex } from '@ferry/bundle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.js';

const PROJECT = new URL('../../../../fixtures/bundle/', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry pack / keygen / sign / verify / unpack', () => {
  it('runs the whole flow and names a tampered file with exit 2', async () => {
    const bundle = join(dir, 'sentiment.ferry');
    const pack = await runCli(['pack', PROJECT, '-o', bundle]);
    expect(pack.stderr).toBe('');
    expect(pack.code).toBe(0);
    expect(pack.stdout).toMatch(
      /^packed sentiment 1\.0\.0 -> .*sentiment\.ferry\n {2}5 files \(.*\) \+ \.ferry\/manifest\.json\n {2}model classifier \(onnx\) model\/classifier\.onnx: scanned, safe\n$/,
    );

    const keygen = await runCli(['keygen', '-o', join(dir, 'k'), '--json']);
    expect(keygen.code).toBe(0);
    const keys = JSON.parse(keygen.stdout);
    expect((await stat(keys.privateKey)).mode & 0o777).toBe(0o600);

    const sign = await runCli(['sign', bundle, '--key', keys.privateKey]);
    expect(sign.code).toBe(0);
    expect(sign.stdout).toMatch(
      /signed .*sentiment\.ferry -> .*sentiment\.ferry\.sig\n {2}6 files, digest sha256:[0-9a-f]{64}\n/,
    );

    const verify = await runCli(['verify', bundle, '--pub', keys.publicKey, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ name: 'sentiment', version: '1.0.0', files: 6 });

    const unpack = await runCli(['unpack', bundle, '-o', join(dir, 'out'), '--pub', keys.publicKey]);
    expect(unpack.code).toBe(0);
    expect(unpack.stdout).toMatch(/unpacked sentiment 1\.0\.0 -> .*out \(6 files, .*, signature verified\)/);
    expect((await stat(join(dir, 'out'))).mode & 0o777).toBe(0o755);

    const bytes = await readFile(bundle);
    const entry = (await readTarIndex(bundle)).find((e) => e.path === 'handler.mjs')!;
    bytes[entry.dataOffset + 10]! ^= 0x01;
    await writeFile(bundle, bytes);
    const tampered = await runCli(['verify', bundle, '--pub', keys.publicKey]);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toMatch(
      /^ferry verify: FERRY_BUNDLE_TAMPERED: .*sentiment\.ferry: verification failed: handler\.mjs changed \(sha256 [0-9a-f]{12}\.\.\. signed, [0-9a-f]{12}\.\.\. now\)\n$/,
    );
  });

  it('prints every ferry.yaml problem on its own line and exits 2', async () => {
    const project = await mkdtemp(join(dir, 'bad-'));
    await writeFile(
      join(project, 'ferry.yaml'),
      'name: x\nversion: "1"\nmodels:\n  - name: m\n    path: /abs.onnx\n    format: onnx\ncolour: red\n',
    );
    const result = await runCli(['pack', project]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^ferry pack: FERRY_BUNDLE_YAML: .*ferry\.yaml:7: colour: unknown field/),
      expect.stringMatching(
        /^ferry pack: FERRY_BUNDLE_YAML: .*ferry\.yaml:5: models\[0\]\.path: "\/abs\.onnx" must be relative to the project folder$/,
      ),
    ]);
  });

  it('containerizes a bundle', async () => {
    const bundle = join(dir, 'c.ferry');
    expect((await runCli(['pack', PROJECT, '-o', bundle])).code).toBe(0);
    const result = await runCli([
      'containerize',
      bundle,
      '-o',
      join(dir, 'ctx'),
      '--replicas',
      '3',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      image: 'sentiment:1.0.0',
      files: expect.arrayContaining(['Dockerfile', 'k8s/hpa.yaml']),
    });
    expect(await readFile(join(dir, 'ctx/k8s/deployment.yaml'), 'utf8')).toMatch(/replicas: 3/);
    expect(
      (await runCli(['containerize', bundle, '-o', join(dir, 'ctx2'), '--replicas', 'many'])).stderr,
    ).toMatch(/--replicas must be a whole number from 1/);
  });

  it('checks its arguments', async () => {
    expect((await runCli(['sign', 'x.ferry'])).stderr).toMatch(/sign needs --key KEY/);
    expect((await runCli(['verify', 'x.ferry'])).stderr).toMatch(/verify needs --pub PUB/);
    expect((await runCli(['unpack', 'x.ferry'])).stderr).toMatch(/unpack needs -o DIR/);
    expect((await runCli(['pack'])).code).toBe(2);
  });
});
