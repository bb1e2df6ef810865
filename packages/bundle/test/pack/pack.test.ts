import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTarIndex } from '../../src/tar/reader.js';
import { decodeManifest, MANIFEST_PATH } from '../../src/pack/bundle-manifest.js';
import { packBundle } from '../../src/pack/pack.js';
import { copyFixtureProject, FIXTURE_PROJECT } from '../test-project.helper.js';

const PICKLE_CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const WILD = new URL('../../../../fixtures/wild/', import.meta.url).pathname;
let out: string;
const cleanup: string[] = [];
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'ferry-pack-'));
  cleanup.push(out);
});
afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

describe('ferry pack', () => {
  it('packs the fixture project reproducibly: two packs, same bytes', async () => {
    const a = await packBundle(FIXTURE_PROJECT, { output: join(out, 'a.ferry') });
    // A second copy of the project in another folder, with other mtimes: still the same bytes.
    const copy = await copyFixtureProject();
    cleanup.push(copy);
    const b = await packBundle(copy, { output: join(out, 'b.ferry') });
    expect(await readFile(a.path)).toEqual(await readFile(b.path));
    expect(a.files).toBe(5);
  });

  it('writes sorted files with fixed owners and times, and the manifest last', async () => {
    const result = await packBundle(FIXTURE_PROJECT, { output: join(out, 'list.ferry') });
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', result.path], {
      encoding: 'utf8',
    });
    const lines = listing.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).pop())).toEqual([
      'README.md',
      'ferry.yaml',
      'handler.mjs',
      'model/classifier.onnx',
      'vocab.txt',
      MANIFEST_PATH,
    ]);
    for (const line of lines) expect(line).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00:00 /);
    const entries = await readTarIndex(result.path);
    const last = entries.at(-1)!;
    const bytes = await readFile(result.path);
    const manifest = decodeManifest(
      bytes.subarray(last.dataOffset, last.dataOffset + last.size),
      result.path,
    );
    expect(manifest).toEqual(result.manifest);
    expect(manifest.name).toBe('sentiment');
    expect(manifest.models).toEqual([
      { name: 'classifier', format: 'onnx', path: 'model/classifier.onnx', findings: [] },
    ]);
    const onnx = manifest.files.find((f) => f.path === 'model/classifier.onnx')!;
    const source = await readFile(join(FIXTURE_PROJECT, 'model/classifier.onnx'));
    expect(onnx).toEqual({
      path: 'model/classifier.onnx',
      size: source.length,
      sha256: execFileSync('sha256sum', [join(FIXTURE_PROJECT, 'model/classifier.onnx')], {
        encoding: 'utf8',
      }).split(' ')[0],
      mode: '0644',
      role: 'model',
    });
    expect(manifest.files.map((f) => f.role)).toEqual(['doc', 'spec', 'handler', 'model', 'file']);
    // No host path anywhere in the archive.
    expect(bytes.includes(Buffer.from(FIXTURE_PROJECT))).toBe(false);
    expect(bytes.includes(Buffer.from(tmpdir()))).toBe(false);
  });

  // Resolving against a running registry (pin, download, scan, pack, serve): test/pack-ref.test.ts.
  it('refuses a registry reference when no registry is given, naming the model and the reference', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(dir, 'ferry.yaml'),
      yaml.replace(
        'models:\n',
        'models:\n  - name: embedder\n    ref: models:/team/embedder@prod\n    format: safetensors\n',
      ),
    );
    const output = join(out, 'ref.ferry');
    await expect(packBundle(dir, { output })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_REF',
      message: `${join(dir, 'ferry.yaml')}: model embedder: models:/team/embedder@prod: a registry reference needs a registry to resolve it (ferry pack --registry URL, or FERRY_REGISTRY)`,
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('stops on an unsafe model with its findings, and writes nothing', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    // an object array whose element pickle calls os.system
    await copyFile(join(PICKLE_CORPUS, 'object_array.npy'), join(dir, 'model/objects.npy'));
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(dir, 'ferry.yaml'),
      yaml.replace('models:\n', 'models:\n  - name: objects\n    path: model/objects.npy\n    format: npy\n'),
    );
    const output = join(out, 'unsafe.ferry');
    await expect(packBundle(dir, { output })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_UNSAFE_MODEL',
      message: expect.stringMatching(
        /model objects is unsafe \(2 finding\(s\)\): \[critical\] dangerous-call: calls os.system/,
      ),
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('stops on an invalid model, named invalid, not unsafe (issue #18)', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    // onnxruntime-extensions' custom-op model: domain ai.onnx.contrib without an opset import
    await copyFile(join(WILD, 'custom_op_negpos.onnx'), join(dir, 'model/classifier.onnx'));
    const output = join(out, 'invalid.ferry');
    await expect(packBundle(dir, { output })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_INVALID_MODEL',
      message: expect.stringMatching(
        /model classifier is invalid \(1 finding\(s\)\): \[medium\] onnx-check\/opset-missing: no opset_import for domain "ai.onnx.contrib"/,
      ),
    });
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('stops when the bytes are not the declared format, or no reader opens them', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(join(dir, 'ferry.yaml'), yaml.replace('format: onnx', 'format: safetensors'));
    await expect(packBundle(dir, { output: join(out, 'x.ferry') })).rejects.toThrow(
      /model classifier: ferry.yaml says format safetensors, but the file is onnx/,
    );
    await writeFile(join(dir, 'model/classifier.onnx'), 'not a model at all');
    await expect(packBundle(dir, { output: join(out, 'x.ferry') })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_MODEL_UNREADABLE',
    });
  });

  it("installs the handler's npm dependencies from its lock file into the bundle", async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    // yaml@2.9.1 is in this repository's own lock file, so npm's cache has it (offline is fine).
    const rootLock = JSON.parse(
      await readFile(new URL('../../../../package-lock.json', import.meta.url), 'utf8'),
    );
    const yamlEntry = rootLock.packages['node_modules/yaml'];
    const pkg = {
      name: 'sentiment-handler',
      version: '1.0.0',
      private: true,
      dependencies: { yaml: yamlEntry.version },
    };
    const lock = {
      name: pkg.name,
      version: pkg.version,
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies },
        'node_modules/yaml': yamlEntry,
      },
    };
    await mkdir(join(dir, 'code'));
    await writeFile(join(dir, 'code/package.json'), JSON.stringify(pkg));
    await writeFile(join(dir, 'code/package-lock.json'), JSON.stringify(lock));
    await writeFile(
      join(dir, 'code/handler.mjs'),
      "import { parse } from 'yaml';\nexport const preprocess = (r) => parse(r);\n",
    );
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(dir, 'ferry.yaml'),
      yaml.replace('  module: handler.mjs', '  module: code/handler.mjs\n  lockfile: code/package-lock.json'),
    );
    const result = await packBundle(dir, { output: join(out, 'deps.ferry') });
    const paths = result.manifest.files.map((f) => f.path);
    expect(paths).toContain('code/package.json');
    expect(paths).toContain('code/package-lock.json');
    expect(paths).toContain('code/node_modules/yaml/package.json');
    expect(paths.some((p) => p.startsWith('code/node_modules/.bin'))).toBe(false);
    const installed = result.manifest.files.filter((f) => f.role === 'dependency');
    expect(installed.length).toBeGreaterThan(10);
    const entries = await readTarIndex(result.path);
    const pkgEntry = entries.find((e) => e.path === 'code/node_modules/yaml/package.json')!;
    const bytes = await readFile(result.path);
    expect(
      JSON.parse(bytes.subarray(pkgEntry.dataOffset, pkgEntry.dataOffset + pkgEntry.size).toString()).version,
    ).toBe(yamlEntry.version);
    // Reproducible with dependencies too.
    const again = await packBundle(dir, { output: join(out, 'deps2.ferry') });
    expect(await readFile(again.path)).toEqual(await readFile(result.path));
  });

  it("reports a broken lock file with npm's own error", async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'h', version: '1.0.0', dependencies: { yaml: '2.9.1' } }),
    );
    await writeFile(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        name: 'h',
        version: '1.0.0',
        lockfileVersion: 3,
        packages: { '': { name: 'h', version: '1.0.0' } },
      }),
    );
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(
      join(dir, 'ferry.yaml'),
      yaml.replace('  module: handler.mjs', '  module: handler.mjs\n  lockfile: package-lock.json'),
    );
    await expect(packBundle(dir, { output: join(out, 'npm.ferry') })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_NPM',
    });
  });
});
