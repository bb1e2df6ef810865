import { copyFile, cp, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '@ferry/formats';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { startServer } from '@ferry/serve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_PATH,
  type ManifestModel,
} from '../src/pack/bundle-manifest.js';
import { packBundle } from '../src/pack/pack.js';
import { copyFixtureProject, FIXTURE_PROJECT } from './test-project.helper.js';
import { prepareBundleServe } from '../src/serve/prepare.js';
import { readTarIndex } from '../src/tar/reader.js';
import { TarWriter } from '../src/tar/writer.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const CLASSIFIER = join(FIXTURE_PROJECT, 'model/classifier.onnx');
// Another real ONNX classifier (torch-exported, fixtures/make/deploy.py): the "next" version.
const OTHER_ONNX = join(FIXTURES, 'deploy/v1/model.onnx');
const EXPECTED = JSON.parse(await readFile(join(FIXTURE_PROJECT, 'expected.json'), 'utf8')) as {
  samples: { text: string; logits: number[]; label: string }[];
};
const LOCAL_MODEL = '  - name: classifier\n    path: model/classifier.onnx\n    format: onnx\n';

let registry: RegistryServer & { url: string };
let client: RegistryClient;
let work: string;
const projects: string[] = [];
const versions = { first: 0, second: 0, hostile: 0 };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-pack-ref-test-'));
  registry = await startRegistry({
    data: join(work, 'registry'),
    port: 0,
    log: () => undefined,
    webhooks: false,
  });
  client = new RegistryClient({
    url: registry.url,
    ...(registry.adminToken && { token: registry.adminToken }),
  });
  versions.first = (await client.push(CLASSIFIER, { model: 'team/classifier', alias: 'prod' })).version;
  versions.second = (await client.push(OTHER_ONNX, { model: 'team/classifier' })).version;
  // a pickle that calls os.system: the registry's own scan marks the version unsafe
  const hostile = await client.push(join(FIXTURES, 'pickle/corpus/os_system_p0.pkl'), {
    model: 'team/hostile',
    alias: 'prod',
  });
  expect(hostile.scan).toBe('unsafe');
  versions.hostile = hostile.version;
  // a gzip-compressed joblib no format reader claims: the registry's scan (ferry scan's) still
  // runs the pickle machine over it and finds the payload
  const sneaky = await client.push(join(FIXTURES, 'pickle/corpus/gzip_hostile.joblib'), {
    model: 'team/sneaky',
    alias: 'prod',
  });
  expect(sneaky.scan).toBe('unsafe');
  // a payload pickle cut short: the registry could not read it to its end ('error')
  const broken = await client.push(join(FIXTURES, 'pickle/corpus/truncated.pkl'), {
    model: 'team/broken',
    alias: 'prod',
  });
  expect(broken.scan).toBe('error');
});

afterAll(async () => {
  await registry?.close();
  if (work) await rm(work, { recursive: true, force: true });
  for (const dir of projects) await rm(dir, { recursive: true, force: true });
});

/** A copy of the fixture project whose model comes from the registry (`ref`) instead of model/. */
async function refProject(ref: string, format = 'onnx', name = 'classifier'): Promise<string> {
  const dir = await copyFixtureProject();
  projects.push(dir);
  await rm(join(dir, 'model'), { recursive: true });
  const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
  expect(yaml).toContain(LOCAL_MODEL);
  await writeFile(
    join(dir, 'ferry.yaml'),
    yaml.replace(LOCAL_MODEL, `  - name: ${name}\n    ref: ${ref}\n    format: ${format}\n`),
  );
  return dir;
}

/** One entry's bytes from a bundle. */
async function entryBytes(bundle: string, path: string): Promise<Buffer> {
  const entry = (await readTarIndex(bundle)).find((e) => e.path === path);
  if (!entry) throw new Error(`${bundle} has no entry ${path}`);
  return (await readFile(bundle)).subarray(entry.dataOffset, entry.dataOffset + entry.size);
}

/**
 * A copy of a packed bundle whose manifest holds `model` instead (a shape pack does not write
 * today); the model files are dropped when the model has no path.
 */
async function rewriteBundle(
  packed: Awaited<ReturnType<typeof packBundle>>,
  name: string,
  model: ManifestModel,
): Promise<string> {
  const keep = (path: string) => model.path !== undefined || !path.startsWith('models/');
  const manifest = {
    ...packed.manifest,
    models: [model],
    files: packed.manifest.files.filter((f) => keep(f.path)),
  };
  const output = join(work, name);
  const source = await readFile(packed.path);
  const file = await open(output, 'w');
  try {
    const tar = new TarWriter(file);
    for (const entry of await readTarIndex(packed.path)) {
      if (!keep(entry.path) || entry.path === MANIFEST_PATH) continue;
      await tar.addBytes(entry.path, false, source.subarray(entry.dataOffset, entry.dataOffset + entry.size));
    }
    await tar.addBytes(MANIFEST_PATH, false, encodeManifest(manifest));
    await tar.finish();
  } finally {
    await file.close();
  }
  return output;
}

/** Runs `body` with TMPDIR pointing at a fresh folder; returns what is left in it afterwards. */
async function inOwnTmp(body: () => Promise<void>): Promise<string[]> {
  const own = await mkdtemp(join(work, 'tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return readdir(own);
}

const sha256 = (path: string) => sha256File(path);

/** A loopback port nothing listens on: bound by the kernel's choice, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ferry pack resolves models:/ references against a real registry', () => {
  it('pins models:/NAME@prod to its version and packs the file byte for byte, with its provenance', async () => {
    const project = await refProject('models:/team/classifier@prod');
    const output = join(work, 'prod.ferry');
    const downloads: string[] = [];
    let result: Awaited<ReturnType<typeof packBundle>> | undefined;
    const left = await inOwnTmp(async () => {
      result = await packBundle(project, {
        output,
        registry: client,
        onDownload: (model, done, total, path) => downloads.push(`${model} ${path} ${done}/${total}`),
      });
    });
    // the download folder is gone again
    expect(left).toEqual([]);
    const size = (await readFile(CLASSIFIER)).length;
    expect(downloads.at(-1)).toBe(`classifier classifier.onnx ${size}/${size}`);
    const digest = await sha256(CLASSIFIER);
    expect(result!.manifest.models).toEqual([
      {
        name: 'classifier',
        format: 'onnx',
        path: 'models/classifier/classifier.onnx',
        ref: 'models:/team/classifier@prod',
        version: versions.first,
        files: [{ path: 'classifier.onnx', sha256: digest }],
        findings: [],
      },
    ]);
    expect(await entryBytes(output, 'models/classifier/classifier.onnx')).toEqual(await readFile(CLASSIFIER));
    expect(result!.manifest.files.find((f) => f.path === 'models/classifier/classifier.onnx')).toEqual({
      path: 'models/classifier/classifier.onnx',
      size,
      sha256: digest,
      mode: '0644',
      role: 'model',
    });
    // the manifest read back from the archive says the same (it is what the signature covers)
    expect(decodeManifest(await entryBytes(output, MANIFEST_PATH), output)).toEqual(result!.manifest);
    // no host path (project or download folder) anywhere in the archive
    const bytes = await readFile(output);
    expect(bytes.includes(Buffer.from(project))).toBe(false);
    expect(bytes.includes(Buffer.from('ferry-pack-ref-'))).toBe(false);

    // the same registry version again, from another copy of the project: the same bytes
    const again = await packBundle(await refProject('models:/team/classifier@prod'), {
      output: join(work, 'prod-again.ferry'),
      registry: client,
    });
    expect(await readFile(again.path)).toEqual(bytes);
  });

  it('picks the new version once the alias moves, and takes a version number as it is', async () => {
    await client.setAlias('team/classifier', 'candidate', versions.first);
    const project = await refProject('models:/team/classifier@candidate');
    const before = await packBundle(project, { output: join(work, 'candidate-1.ferry'), registry: client });
    expect(before.manifest.models[0]).toMatchObject({ version: versions.first });

    await client.setAlias('team/classifier', 'candidate', versions.second);
    const after = await packBundle(project, { output: join(work, 'candidate-2.ferry'), registry: client });
    expect(after.manifest.models[0]).toEqual({
      name: 'classifier',
      format: 'onnx',
      path: 'models/classifier/model.onnx',
      ref: 'models:/team/classifier@candidate',
      version: versions.second,
      files: [{ path: 'model.onnx', sha256: await sha256(OTHER_ONNX) }],
      findings: [],
    });
    expect(await entryBytes(after.path, 'models/classifier/model.onnx')).toEqual(await readFile(OTHER_ONNX));
    expect((await readTarIndex(after.path)).map((e) => e.path)).not.toContain(
      'models/classifier/classifier.onnx',
    );

    const pinned = await packBundle(await refProject(`models:/team/classifier/${versions.first}`), {
      output: join(work, 'pinned.ferry'),
      registry: client,
    });
    expect(pinned.manifest.models[0]).toMatchObject({
      ref: `models:/team/classifier/${versions.first}`,
      version: versions.first,
      path: 'models/classifier/classifier.onnx',
    });
  });

  it("stops on an unknown alias, version or model with the registry's answer, writing nothing", async () => {
    const cases = [
      ['models:/team/classifier@nope', /FERRY_REGISTRY_NOT_FOUND: .*nope/],
      ['models:/team/classifier/99', /FERRY_REGISTRY_NOT_FOUND: .*99/],
      ['models:/team/missing@prod', /FERRY_REGISTRY_NOT_FOUND: .*team\/missing/],
    ] as const;
    for (const [ref, reason] of cases) {
      const project = await refProject(ref);
      const output = join(work, 'unknown.ferry');
      let error: unknown;
      const left = await inOwnTmp(async () => {
        error = await packBundle(project, { output, registry: client }).catch((e: unknown) => e);
      });
      expect(error).toMatchObject({ code: 'FERRY_BUNDLE_REF' });
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message.startsWith(`${join(project, 'ferry.yaml')}: model classifier: ${ref}: `)).toBe(true);
      expect(message).toMatch(reason);
      await expect(readFile(output)).rejects.toThrow(/ENOENT/);
      expect(left).toEqual([]);
    }
  });

  it('needs a registry: none given, or none reachable, is one line naming the model and the reference', async () => {
    const project = await refProject('models:/team/classifier@prod');
    const output = join(work, 'none.ferry');
    await expect(packBundle(project, { output })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_REF',
      message: `${join(project, 'ferry.yaml')}: model classifier: models:/team/classifier@prod: a registry reference needs a registry to resolve it (ferry pack --registry URL, or FERRY_REGISTRY)`,
    });
    // a loopback port that was free a moment ago: nothing listens there, the connection is refused
    const nowhere = new RegistryClient({ url: `http://127.0.0.1:${await closedPort()}` });
    await expect(packBundle(project, { output, registry: nowhere })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_REF_UNREACHABLE',
      message: expect.stringMatching(
        /: model classifier: models:\/team\/classifier@prod: cannot reach the registry http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); name it with --registry URL or FERRY_REGISTRY$/,
      ),
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a version the registry scan marks unsafe, and scans what it downloads itself', async () => {
    const output = join(work, 'unsafe.ferry');
    const hostile = await refProject('models:/team/hostile@prod', 'pickle', 'payload');
    await expect(packBundle(hostile, { output, registry: client })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_UNSAFE_VERSION',
      message: expect.stringMatching(
        new RegExp(
          `: model payload: models:/team/hostile@prod is version ${versions.hostile}, which the registry scan marks unsafe \\(os_system_p0\\.pkl: .+\\); it is never packed$`,
        ),
      ),
    });
    const sneaky = await refProject('models:/team/sneaky@prod', 'joblib', 'payload');
    await expect(packBundle(sneaky, { output, registry: client })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_UNSAFE_VERSION',
    });
    // the registry could not read this file (scan error): pack downloads it, its own scan stops it
    const broken = await refProject('models:/team/broken@prod', 'pickle', 'payload');
    let error: unknown;
    const left = await inOwnTmp(async () => {
      error = await packBundle(broken, { output, registry: client }).catch((e: unknown) => e);
    });
    expect(error).toMatchObject({
      code: 'FERRY_BUNDLE_MODEL_UNREADABLE',
      message: expect.stringMatching(
        /ferry\.yaml: models:\/team\/broken@prod \(version 1\): model payload cannot be scanned: FERRY_PICKLE_TRUNCATED/,
      ),
    });
    // the download folder's path never shows in the error (it is removed by then)
    expect((error as Error).message).not.toContain('ferry-pack-ref-');
    expect(left).toEqual([]);
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('packs a version of several files as a folder (a SavedModel), every file byte for byte', async () => {
    const folder = join(FIXTURES, 'savedmodel-onnx/tf_module_more');
    const pushed = await client.push(folder, { model: 'team/tfmodule', alias: 'prod' });
    const project = await refProject('models:/team/tfmodule@prod', 'savedmodel', 'tf');
    const result = await packBundle(project, { output: join(work, 'savedmodel.ferry'), registry: client });
    const paths = pushed.files.map((f) => f.path).sort();
    expect(paths.length).toBeGreaterThan(1);
    expect(result.manifest.models[0]).toMatchObject({
      name: 'tf',
      format: 'savedmodel',
      path: 'models/tf',
      ref: 'models:/team/tfmodule@prod',
      version: pushed.version,
      files: await Promise.all(
        paths.map(async (path) => ({ path, sha256: await sha256(join(folder, path)) })),
      ),
    });
    for (const path of paths)
      expect(await entryBytes(result.path, `models/tf/${path}`)).toEqual(await readFile(join(folder, path)));
  });

  it("a SavedModel folder with a pickle beside saved_model.pb: pack's own scan judges every file in it", async () => {
    const dir = await copyFixtureProject();
    projects.push(dir);
    await rm(join(dir, 'model'), { recursive: true });
    await cp(join(FIXTURES, 'savedmodel-onnx/tf_module_more'), join(dir, 'model', 'tf'), { recursive: true });
    await copyFile(join(FIXTURES, 'pickle/corpus/pip_main.pkl'), join(dir, 'model', 'tf', 'extra.pkl'));
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(dir, 'ferry.yaml'),
      yaml.replace(LOCAL_MODEL, '  - name: tf\n    path: model/tf\n    format: savedmodel\n'),
    );
    const output = join(work, 'savedmodel-pickle.ferry');
    await expect(packBundle(dir, { output })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_UNSAFE_MODEL',
      message: expect.stringMatching(
        /model tf is unsafe \(2 finding\(s\)\): \[info\] savedmodel-checkpoint-op: .*; \[critical\] dangerous-call: calls pip\.main: .* \(extra\.pkl byte \d+\)$/,
      ),
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a version that is not ready (declared, never committed)', async () => {
    await client.createModel({ name: 'team/pending' });
    const { version } = await client.createVersion('team/pending', {
      files: [{ path: 'model.onnx', sha256: 'ab'.repeat(32), size: 5 }],
    });
    expect(version.status).toBe('pending');
    const project = await refProject(`models:/team/pending/${version.version}`);
    await expect(
      packBundle(project, { output: join(work, 'pending.ferry'), registry: client }),
    ).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_REF',
      message: expect.stringMatching(
        new RegExp(
          `: models:/team/pending/${version.version}: version ${version.version} is pending, not ready \\(only a committed version with all its files is packed\\)$`,
        ),
      ),
    });
  });

  it('checks the declared format against the downloaded bytes', async () => {
    const project = await refProject('models:/team/classifier@prod', 'safetensors');
    await expect(
      packBundle(project, { output: join(work, 'format.ferry'), registry: client }),
    ).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_FORMAT_MISMATCH',
      message: expect.stringMatching(
        /models:\/team\/classifier@prod \(version \d+\): model classifier: ferry\.yaml says format safetensors, but the file is onnx$/,
      ),
    });
  });

  it('refuses a project file where the registry model goes (models/NAME/)', async () => {
    const project = await refProject('models:/team/classifier@prod');
    const yaml = await readFile(join(project, 'ferry.yaml'), 'utf8');
    await rm(join(project, 'vocab.txt'));
    await writeFile(
      join(project, 'ferry.yaml'),
      yaml.replace('  - vocab.txt', '  - models/classifier/vocab.txt'),
    );
    await mkdir(join(project, 'models/classifier'), { recursive: true });
    await copyFile(join(FIXTURE_PROJECT, 'vocab.txt'), join(project, 'models/classifier/vocab.txt'));
    await expect(
      packBundle(project, { output: join(work, 'clash.ferry'), registry: client }),
    ).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_UNSAFE_ENTRY',
      message: expect.stringMatching(
        /entry "models\/classifier\/vocab\.txt" refused: is inside models\/classifier\/, where ferry pack puts the files of registry model classifier \(models:\/team\/classifier@prod\); move it$/,
      ),
    });
  });
});

describe('serving a bundle packed from a registry reference', () => {
  it('answers like the fixture expects (pack with ref -> prepareBundleServe -> request)', async () => {
    const bundle = await packBundle(await refProject('models:/team/classifier@prod'), {
      output: join(work, 'serve.ferry'),
      registry: client,
    });
    const prepared = await prepareBundleServe(bundle.path);
    try {
      const server = await startServer({
        path: prepared.repository,
        handlers: prepared.handlers,
        httpPort: 0,
        grpcPort: null,
        logLevel: 'silent',
      });
      try {
        const response = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/classifier/handler`, {
          method: 'POST',
          body: JSON.stringify({ text: EXPECTED.samples.map((s) => s.text) }),
        });
        expect(response.status).toBe(200);
        const answer = (await response.json()) as { predictions: { label: string; scores: number[] }[] };
        expect(answer.predictions.map((p) => p.label)).toEqual(EXPECTED.samples.map((s) => s.label));
        for (const [i, sample] of EXPECTED.samples.entries())
          for (const [j, logit] of sample.logits.entries())
            expect(answer.predictions[i]!.scores[j]).toBeCloseTo(logit, 5);
      } finally {
        await server.close();
      }
    } finally {
      await prepared.cleanup();
    }
  });

  it('refuses a bundle that carries only the reference (packed before pack resolved them)', async () => {
    const packed = await packBundle(await refProject('models:/team/classifier@prod'), {
      output: join(work, 'resolved.ferry'),
      registry: client,
    });
    // The older shape: the model entry holds the ref alone and no model file is packed.
    const old = await rewriteBundle(packed, 'old.ferry', {
      name: 'classifier',
      format: 'onnx',
      ref: 'models:/team/classifier@prod',
      findings: [],
    });
    let error: unknown;
    const left = await inOwnTmp(async () => {
      error = await prepareBundleServe(old).catch((e: unknown) => e);
    });
    expect(error).toMatchObject({
      code: 'FERRY_BUNDLE_SERVE',
      message: `${old}: model classifier: models:/team/classifier@prod is a registry reference this bundle does not carry (it was packed before ferry pack resolved references); pack the project again with ferry pack --registry URL`,
    });
    expect(left).toEqual([]);
    // A model path that is a folder, not one of the bundle's files: refused by name, not a link error.
    const folder = await rewriteBundle(packed, 'folder.ferry', {
      ...packed.manifest.models[0]!,
      path: 'models/classifier',
    });
    await expect(prepareBundleServe(folder)).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_SERVE',
      message: `${folder}: model classifier: models/classifier is a folder; ferry serve runs a model that is one file`,
    });
  });
});
