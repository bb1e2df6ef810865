import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleManifestError } from '../errors.js';
import { loadBundleSpec, parseBundleSpec } from './load.js';
import { parseModelRef } from './validate.js';

const FULL = `
name: sentiment
version: 1.2.0
description: text classifier
license: Apache-2.0
labels:
  team: nlp
  example.com/tier: gold
models:
  - name: classifier
    path: model/classifier.onnx
    format: onnx
  - name: embedder
    ref: models:/team/embedder@prod
    format: safetensors
handler:
  module: handler.mjs
  lockfile: package-lock.json
inputs:
  - name: text
    datatype: BYTES
    shape: [-1]
outputs:
  - name: label
    datatype: INT64
    shape: [-1, 1]
serving:
  max_batch_size: 8
  dynamic_batching:
    max_queue_delay_us: 100
    preferred_batch_sizes: [4, 8]
  instances:
    count: 2
    allow_spinning: false
    placement: worker
docs: [README.md]
files: [vocab.txt]
`;

function problemsOf(text: string): string[] {
  try {
    parseBundleSpec(text);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleManifestError);
    return (error as BundleManifestError).problems.map((p) => p.message);
  }
  throw new Error('expected ferry.yaml to be refused');
}

describe('ferry.yaml validation', () => {
  it('reads every field of a full spec', () => {
    const spec = parseBundleSpec(FULL);
    expect(spec.name).toBe('sentiment');
    expect(spec.labels).toEqual({ 'example.com/tier': 'gold', team: 'nlp' });
    expect(spec.models[0]).toEqual({ name: 'classifier', format: 'onnx', path: 'model/classifier.onnx' });
    expect(spec.models[1]).toEqual({
      name: 'embedder',
      format: 'safetensors',
      ref: 'models:/team/embedder@prod',
      registryModel: 'team/embedder',
      alias: 'prod',
    });
    expect(spec.handler).toEqual({ module: 'handler.mjs', lockfile: 'package-lock.json' });
    expect(spec.inputs).toEqual([{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    expect(spec.serving).toEqual({
      maxBatchSize: 8,
      dynamicBatching: { maxQueueDelayUs: 100, preferredBatchSizes: [4, 8] },
      instances: { count: 2, allowSpinning: false, placement: 'worker' },
    });
    expect(spec.docs).toEqual(['README.md']);
    expect(spec.files).toEqual(['vocab.txt']);
  });

  it('reports every problem at once, each with its line, field path and rule', () => {
    const problems = problemsOf(`name: Bad Name
version: 1
models:
  - name: m
    path: ../outside.onnx
    format: tflite
  - name: m
    ref: models:/x
    format: onnx
  - name: both
    path: a.onnx
    ref: models:/a@b
    format: onnx
handler:
  module: handler.py
inputs:
  - name: x
    datatype: FLOAT
    shape: [1, -2]
serving:
  max_batch_size: 4
  dynamic_batching:
    preferred_batch_sizes: [8]
  instances:
    allow_spinning: 1
    placement: gpu
  colour: blue
docs: [/etc/passwd]
`);
    expect(problems).toEqual([
      expect.stringMatching(/^ferry\.yaml:1: name: "Bad Name" must be 1-128 lower-case/),
      'ferry.yaml:2: version: must be a string, not number 1 (quote it)',
      expect.stringMatching(
        /^ferry\.yaml:6: models\[0\]\.format: string "tflite" is not a format ferry reads/,
      ),
      'ferry.yaml:5: models[0].path: "../outside.onnx" must stay inside the project folder (no "..")',
      'ferry.yaml:7: models[1].name: "m" is already the name of models[0]',
      expect.stringMatching(/^ferry\.yaml:8: models\[1\]\.ref: "models:\/x" must end in @ALIAS or \/VERSION/),
      'ferry.yaml:10: models[2]: needs exactly one of path (a file or folder in the project) or ref (models:/NAME@ALIAS)',
      'ferry.yaml:15: handler.module: "handler.py" must be a .js, .mjs, .ts or .mts module',
      expect.stringMatching(/^ferry\.yaml:18: inputs\[0\]\.datatype: string "FLOAT" is not one of BOOL/),
      'ferry.yaml:19: inputs[0].shape[1]: must be an integer from -1 to 2147483647, not number -2',
      expect.stringMatching(/^ferry\.yaml:27: serving\.colour: unknown field/),
      'ferry.yaml:23: serving.dynamic_batching.preferred_batch_sizes[0]: 8 is larger than serving.max_batch_size (4)',
      'ferry.yaml:25: serving.instances.allow_spinning: must be true or false, not number 1',
      'ferry.yaml:26: serving.instances.placement: must be one of auto, worker, event_loop, not string "gpu"',
      'ferry.yaml:28: docs[0]: "/etc/passwd" must be relative to the project folder',
    ]);
  });

  it('names missing required fields and unknown top-level fields', () => {
    expect(problemsOf('description: x\nmodel: []\n')).toEqual([
      expect.stringMatching(/^ferry\.yaml:2: model: unknown field \(known: name, version/),
      'ferry.yaml:1: name: is required',
      'ferry.yaml:1: version: is required',
      'ferry.yaml:1: models: is required',
    ]);
    expect(problemsOf('')).toEqual(['ferry.yaml: (document): must be a mapping, not empty']);
  });

  it('refuses duplicate keys, YAML syntax errors and alias bombs', () => {
    expect(problemsOf('name: a\nname: b\n')[0]).toMatch(/^ferry\.yaml:2: \(yaml\): Map keys must be unique/);
    expect(problemsOf('name: [a\n')[0]).toMatch(/^ferry\.yaml:\d+: \(yaml\): /);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    expect(problemsOf(bomb.join('\n'))[0]).toMatch(/\(yaml\): .*alias/i);
  });

  it('refuses paths ferry writes itself and files named twice', () => {
    const problems = problemsOf(
      'name: a\nversion: "1"\nmodels: [{name: m, path: m.onnx, format: onnx}]\nfiles: [node_modules/x.js, .ferry/manifest.json]\n',
    );
    expect(problems).toEqual([
      'ferry.yaml:4: files[0]: "node_modules/x.js" must not be inside a node_modules folder (ferry installs the handler dependencies from its lock file)',
      'ferry.yaml:4: files[1]: ".ferry/manifest.json" must not be under .ferry/ (ferry writes that folder itself)',
    ]);
    expect(
      problemsOf(
        'name: a\nversion: "1"\nmodels: [{name: m, path: m.onnx, format: onnx}]\nfiles: [m.onnx, ferry.yaml]\n',
      ),
    ).toEqual([
      'ferry.yaml:4: files[0]: "m.onnx" is already named by models[0].path',
      'ferry.yaml:4: files[1]: "ferry.yaml" is already named by ferry.yaml itself',
    ]);
  });

  it('parses registry references syntactically', () => {
    expect(parseModelRef('models:/m@champion')).toEqual({ registryModel: 'm', alias: 'champion' });
    expect(parseModelRef('models:/ns/m/3')).toEqual({ registryModel: 'ns/m', registryVersion: 3 });
    expect(parseModelRef('models:/a/b/c@x')).toMatch(/NAME or NAMESPACE\/NAME/);
    expect(parseModelRef('models:/m@3')).toMatch(/alias "3" must be a letter/);
    expect(parseModelRef('s3://bucket/m')).toBe('must start with models:/');
    expect(parseModelRef('models:/../m/1')).toMatch(/model name/);
  });
});

describe('loadBundleSpec', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('checks that every named file exists inside the project', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-spec-'));
    dirs.push(dir);
    const outside = await mkdtemp(join(tmpdir(), 'ferry-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'secret.txt'), 'x');
    await symlink(join(outside, 'secret.txt'), join(dir, 'link.txt'));
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'handler.js'), 'export function preprocess() {}');
    await writeFile(join(dir, 'package-lock.json'), '{}');
    await writeFile(
      join(dir, 'ferry.yaml'),
      'name: a\nversion: "1"\nmodels: [{name: m, path: m.onnx, format: onnx}]\nhandler: {module: handler.js, lockfile: package-lock.json}\ndocs: [docs]\nfiles: [link.txt]\n',
    );
    const error = await loadBundleSpec(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleManifestError);
    const file = join(dir, 'ferry.yaml');
    expect((error as BundleManifestError).problems.map((p) => p.message)).toEqual([
      `${file}: models[0].path: "m.onnx" does not exist`,
      `${file}: docs[0]: "docs" must be a regular file`,
      `${file}: files[0]: "link.txt" resolves outside the project folder (symbolic link)`,
      `${file}: handler.lockfile: "package.json" (beside the lock file) does not exist`,
    ]);
  });

  it('says when there is no ferry.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-spec-'));
    dirs.push(dir);
    await expect(loadBundleSpec(dir)).rejects.toThrow(/ferry\.yaml: \(file\): no ferry\.yaml in this folder/);
  });
});
