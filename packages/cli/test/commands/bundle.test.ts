import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTarIndex } from '@ferry/bundle';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

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

    // A tar header made executable after signing: the bytes still match the signature, the mode
    // does not match the signed manifest, so nothing is written and nothing is "verified".
    const modeBundle = join(dir, 'mode.ferry');
    const modeBytes = await readFile(bundle);
    const yaml = (await readTarIndex(bundle)).find((e) => e.path === 'ferry.yaml')!;
    const header = modeBytes.subarray(yaml.headerOffset, yaml.headerOffset + 512);
    header.set(Buffer.from('0000755\0'), 100);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    header.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    await writeFile(modeBundle, modeBytes);
    await cp(`${bundle}.sig`, `${modeBundle}.sig`);
    const modeUnpack = await runCli([
      'unpack',
      modeBundle,
      '-o',
      join(dir, 'mode-out'),
      '--pub',
      keys.publicKey,
    ]);
    expect(modeUnpack.code).toBe(2);
    expect(modeUnpack.stdout).toBe('');
    expect(modeUnpack.stderr).toMatch(
      /^ferry unpack: FERRY_BUNDLE_MANIFEST: .*mode\.ferry.*"ferry\.yaml" has mode 0755 in its tar header, the manifest says 0644\n$/,
    );
    await expect(stat(join(dir, 'mode-out'))).rejects.toThrow(/ENOENT/);
    expect((await runCli(['verify', modeBundle, '--pub', keys.publicKey])).code).toBe(2);

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
    ).toMatch(/--replicas must be an integer 1-99999 \(got many\)/);
  });

  it('checks its arguments', async () => {
    expect((await runCli(['sign', 'x.ferry'])).stderr).toMatch(/sign needs --key KEY/);
    expect((await runCli(['verify', 'x.ferry'])).stderr).toMatch(/verify needs --pub PUB/);
    expect((await runCli(['unpack', 'x.ferry'])).stderr).toMatch(/unpack needs -o DIR/);
    expect((await runCli(['pack'])).code).toBe(2);
  });
});

describe('ferry pack with models:/ references (a real registry, in-process)', () => {
  let registry: RegistryServer & { url: string };
  let token: string;
  let project: string;
  let version: number;

  beforeAll(async () => {
    registry = await startRegistry({
      data: join(dir, 'registry'),
      port: 0,
      log: () => undefined,
      webhooks: false,
    });
    token = registry.adminToken!;
    const client = new RegistryClient({ url: registry.url, token });
    version = (
      await client.push(join(PROJECT, 'model/classifier.onnx'), { model: 'team/classifier', alias: 'prod' })
    ).version;
    project = join(dir, 'ref-project');
    await cp(PROJECT, project, { recursive: true });
    await rm(join(project, 'model'), { recursive: true });
    const yaml = await readFile(join(project, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(project, 'ferry.yaml'),
      yaml.replace('path: model/classifier.onnx', 'ref: models:/team/classifier@prod'),
    );
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('pins the reference with --registry and --token, and reports the version (text and --json)', async () => {
    const bundle = join(dir, 'ref.ferry');
    const pack = await runCli(['pack', project, '-o', bundle, '--registry', registry.url, '--token', token]);
    expect(pack.stderr).toBe('');
    expect(pack.code).toBe(0);
    expect(pack.stdout).toContain(
      `  model classifier (onnx) models/classifier/classifier.onnx from models:/team/classifier@prod (version ${version}, sha256 verified): scanned, safe\n`,
    );
    expect((await readTarIndex(bundle)).map((e) => e.path)).toContain('models/classifier/classifier.onnx');

    const json = await runCli([
      'pack',
      project,
      '-o',
      join(dir, 'ref-json.ferry'),
      '--registry',
      registry.url,
      '--token',
      token,
      '--json',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).manifest.models).toEqual([
      expect.objectContaining({
        ref: 'models:/team/classifier@prod',
        version,
        path: 'models/classifier/classifier.onnx',
      }),
    ]);
    // the same version, the same bytes
    expect(await readFile(join(dir, 'ref-json.ferry'))).toEqual(await readFile(bundle));
  });

  it('exits 2 with one line when the registry cannot be reached or does not know the alias', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const output = join(dir, 'unreachable.ferry');
    const unreachable = await runCli([
      'pack',
      project,
      '-o',
      output,
      '--registry',
      `http://127.0.0.1:${port}`,
    ]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      /^ferry pack: FERRY_BUNDLE_REF_UNREACHABLE: .*ferry\.yaml: model classifier: models:\/team\/classifier@prod: cannot reach the registry http:\/\/127\.0\.0\.1:\d+ \(.*\); name it with --registry URL or FERRY_REGISTRY\n$/,
    );
    await expect(stat(output)).rejects.toThrow(/ENOENT/);

    const yaml = await readFile(join(project, 'ferry.yaml'), 'utf8');
    const other = join(dir, 'ref-unknown');
    await cp(project, other, { recursive: true });
    await writeFile(join(other, 'ferry.yaml'), yaml.replace('@prod', '@nope'));
    const unknown = await runCli(['pack', other, '-o', output, '--registry', registry.url, '--token', token]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^ferry pack: FERRY_BUNDLE_REF: .*ferry\.yaml: model classifier: models:\/team\/classifier@nope: FERRY_REGISTRY_NOT_FOUND: [^\n]*nope[^\n]*\n$/,
    );
    await expect(stat(output)).rejects.toThrow(/ENOENT/);
  });
});
