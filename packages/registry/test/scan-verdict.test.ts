import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, type RemoteRegistryError } from '@ferry/registry-client';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

const REPO = join(import.meta.dirname, '../../..');
const CORPUS = join(REPO, 'fixtures/pickle/corpus');
const SMALL = join(REPO, 'fixtures/safetensors/small.safetensors');
const NEGPOS = join(REPO, 'fixtures/wild/custom_op_negpos.onnx');
const SAVED_MODEL = join(REPO, '../shared/fixtures/savedmodel/saved_model_half_plus_two_tf2_cpu/00000123');

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as RemoteRegistryError).code;
  }
  return 'no error';
}

/** A version's verdict is its worst file's, and only `safe` downloads without force (issue #24). */
describe.each(BACKENDS)('scan verdicts on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let admin: RegistryClient;
  let anon: RegistryClient;
  let work: string;

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    work = await mkdtemp(join(tmpdir(), 'ferry-verdict-'));
    server = await startServer(backend);
    admin = new RegistryClient({ url: server.url, token: server.adminToken! });
    anon = new RegistryClient({ url: server.url });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A folder of real files: [name in the version, source file or text]. */
  async function folder(name: string, files: [string, string][]): Promise<string> {
    const dir = join(work, name);
    for (const [path, from] of files) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      if (from.startsWith('/')) await copyFile(from, join(dir, path));
      else await writeFile(join(dir, path), from);
    }
    return dir;
  }

  const download = (model: string, version: number, path: string, query = '') =>
    fetch(
      `${server.url}/api/v1/models/${encodeURIComponent(model)}/versions/${version}/files/${path}${query}`,
    );
  const errorCode = async (response: Response) =>
    ((await response.json()) as { error: { code: string } }).error.code;

  it('safetensors with its config and README: safe, downloads without force', async ({ skip }) => {
    if (!backend) skip();
    const src = await folder('clean', [
      ['model.safetensors', SMALL],
      ['config.json', '{"model_type": "bert"}'],
      ['README.md', '# a model\n'],
    ]);
    const version = await admin.push(src, { model: 'verdicts/clean' });
    expect(version.scan).toBe('safe');
    expect(version.scanDetail).toBeNull();
    expect((await anon.pull('models:/verdicts/clean', join(work, 'clean-out'))).version).toBe(
      version.version,
    );
    expect((await download('verdicts/clean', version.version, 'model.safetensors')).status).toBe(200);
  });

  it('a truncated pickle beside a safe file: error, refused anonymously without force (REST, pull, Hub)', async ({
    skip,
  }) => {
    if (!backend) skip();
    const src = await folder('broken', [
      ['model.safetensors', SMALL],
      ['extra.pkl', join(CORPUS, 'truncated.pkl')],
    ]);
    const version = await admin.push(src, { model: 'verdicts/broken' });
    expect(version.scan).toBe('error');
    expect(version.scanDetail).toBe('extra.pkl: error (FERRY_PICKLE_TRUNCATED)');
    expect(await code(anon.pull('models:/verdicts/broken', join(work, 'broken-out')))).toBe(
      'FERRY_REGISTRY_UNVERIFIED',
    );
    const refused = await download('verdicts/broken', version.version, 'model.safetensors');
    expect(refused.status).toBe(422);
    expect(await errorCode(refused)).toBe('FERRY_REGISTRY_UNVERIFIED');
    expect(
      (await download('verdicts/broken', version.version, 'model.safetensors', '?force=true')).status,
    ).toBe(200);
    const hub = await fetch(`${server.url}/verdicts/broken/resolve/main/model.safetensors`);
    expect(hub.status).toBe(422);
    expect(
      (await anon.pull('models:/verdicts/broken', join(work, 'broken-forced'), { force: true })).version,
    ).toBe(version.version);
  });

  it('a file no reader recognises: unknown, refused without force', async ({ skip }) => {
    if (!backend) skip();
    const src = await folder('opaque', [
      ['model.safetensors', SMALL],
      ['weights.bin', Buffer.alloc(300, 0x93).toString('latin1')],
    ]);
    const version = await admin.push(src, { model: 'verdicts/opaque' });
    expect(version.scan).toBe('unknown');
    expect(version.scanDetail).toBe('weights.bin: unknown (FERRY_UNKNOWN_FORMAT)');
    const refused = await download('verdicts/opaque', version.version, 'model.safetensors');
    expect(refused.status).toBe(422);
    expect(await errorCode(refused)).toBe('FERRY_REGISTRY_UNVERIFIED');
  });

  it('an ONNX model with a custom-op domain and no opset import: invalid, not unsafe, refused without force', async ({
    skip,
  }) => {
    if (!backend) skip();
    // onnxruntime-extensions' custom_op_negpos.onnx (fixtures/wild): a structure problem (issue #18)
    const src = await folder('invalid', [
      ['model.onnx', NEGPOS],
      ['config.json', '{"a": 1}'],
    ]);
    const version = await admin.push(src, { model: 'verdicts/invalid' });
    expect(version.scan).toBe('invalid');
    expect(version.scanDetail).toBe('model.onnx: invalid: onnx-check/opset-missing');
    const refused = await download('verdicts/invalid', version.version, 'model.onnx');
    expect(refused.status).toBe(422);
    expect(await errorCode(refused)).toBe('FERRY_REGISTRY_UNVERIFIED');
    expect((await download('verdicts/invalid', version.version, 'model.onnx', '?force=true')).status).toBe(
      200,
    );
  });

  it('a pickle whose scan ends in an error after a CRITICAL finding: unsafe', async ({ skip }) => {
    if (!backend) skip();
    const src = await folder('payload', [
      ['model.safetensors', SMALL],
      ['model.pkl', join(CORPUS, 'payload_then_garbage.pkl')],
    ]);
    const version = await admin.push(src, { model: 'verdicts/payload' });
    expect(version.scan).toBe('unsafe');
    expect(version.scanDetail).toBe('model.pkl: dangerous-call');
    const refused = await download('verdicts/payload', version.version, 'model.safetensors');
    expect(await errorCode(refused)).toBe('FERRY_REGISTRY_UNSAFE');
  });

  it('a SavedModel with a pickle beside saved_model.pb: the pickle is judged too (unsafe)', async ({
    skip,
  }) => {
    if (!backend) skip();
    const src = join(work, 'savedmodel');
    await cp(SAVED_MODEL, src, { recursive: true });
    const alone = await admin.push(src, { model: 'verdicts/savedmodel' });
    expect(alone.scan).toBe('safe');
    await copyFile(join(CORPUS, 'pip_main.pkl'), join(src, 'variables', 'extra.pkl'));
    const version = await admin.push(src, { model: 'verdicts/savedmodel' });
    expect(version.scan).toBe('unsafe');
    expect(version.scanDetail).toBe('variables/extra.pkl: dangerous-call');
    const scan = (await (
      await fetch(`${server.url}/api/v1/models/verdicts%2Fsavedmodel/versions/${version.version}/scan`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      })
    ).json()) as { scan: string; files: { path: string; verdict: string }[] };
    expect(scan.scan).toBe('unsafe');
    expect(scan.files.map((f) => [f.path, f.verdict])).toEqual([
      ['.', 'safe'],
      ['assets/foo.txt', 'safe'],
      ['variables/extra.pkl', 'unsafe'],
    ]);
  });
});
