import { copyFile, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-io.helper.js';

const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const CORPUS = join(FIXTURES, 'pickle/corpus');
const SAVED_MODEL = new URL(
  '../../../../shared/fixtures/savedmodel/saved_model_half_plus_two_tf2_cpu/00000123',
  import.meta.url,
).pathname;

/** `ferry ARGV...` in-process (test-io.helper.ts), with the output names these tests use. */
const ferry = (...argv: string[]) =>
  runCli(argv).then(({ code, stdout: out, stderr: err }) => ({ code, out, err }));

interface FileJson {
  path: string;
  format: string;
  verdict: string;
  findings: { severity: string; rule: string }[];
  error?: { code: string };
}

async function scanJson(path: string): Promise<{ code: number; files: FileJson[] }> {
  const { code, out } = await ferry('scan', '--json', path);
  const files = (JSON.parse(out).files as FileJson[]).map((f) => ({
    ...f,
    path: f.path.slice(path.length + 1),
  }));
  return { code, files };
}

/** Issue #24: every file under a folder is judged, and the worst one decides. */
describe('ferry scan FOLDER', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-scan-folder-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a Hugging Face cache snapshot: links into blobs/ are followed, a link outside is refused, a loop ends', async () => {
    const repo = join(work, 'models--acme--bert');
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(join(repo, 'snapshots', 'abc123'), { recursive: true });
    await copyFile(join(FIXTURES, 'safetensors/small.safetensors'), join(repo, 'blobs', 'aaa'));
    await writeFile(join(repo, 'blobs', 'bbb'), '{"model_type": "bert"}');
    await copyFile(join(CORPUS, 'pip_main.pkl'), join(repo, 'blobs', 'ccc'));
    const snapshot = join(repo, 'snapshots', 'abc123');
    await symlink('../../blobs/aaa', join(snapshot, 'model.safetensors'));
    await symlink('../../blobs/bbb', join(snapshot, 'config.json'));
    await symlink('../../blobs/ccc', join(snapshot, 'pytorch_model.bin'));
    // only the snapshot is scanned: its links lead into blobs/, outside it
    const outside = await scanJson(snapshot);
    expect(outside.code).toBe(2);
    expect(outside.files.map((f) => [f.path, f.verdict, f.error?.code])).toEqual([
      ['config.json', 'error', 'FERRY_PATH_ESCAPE'],
      ['model.safetensors', 'error', 'FERRY_PATH_ESCAPE'],
      ['pytorch_model.bin', 'error', 'FERRY_PATH_ESCAPE'],
    ]);

    await symlink('..', join(snapshot, 'loop'));
    await symlink('/etc/passwd', join(snapshot, 'passwd'));
    const whole = await scanJson(repo);
    expect(whole.code).toBe(1);
    expect(whole.files.map((f) => [f.path, f.format, f.verdict, f.error?.code])).toEqual([
      ['blobs/aaa', 'safetensors', 'safe', undefined],
      ['blobs/bbb', 'json', 'safe', undefined],
      ['blobs/ccc', 'pickle', 'unsafe', undefined],
      ['snapshots/abc123/config.json', 'json', 'safe', undefined],
      ['snapshots/abc123/model.safetensors', 'safetensors', 'safe', undefined],
      ['snapshots/abc123/passwd', 'unknown', 'error', 'FERRY_PATH_ESCAPE'],
      ['snapshots/abc123/pytorch_model.bin', 'pickle', 'unsafe', undefined],
    ]);
  });

  it('a SavedModel with a pickle beside saved_model.pb: the model and the pickle are both judged', async () => {
    const dir = join(work, 'savedmodel');
    await cp(SAVED_MODEL, dir, { recursive: true });
    const clean = await scanJson(dir);
    expect(clean.code).toBe(0);
    expect(clean.files.map((f) => [f.path, f.format, f.verdict])).toEqual([
      ['', 'savedmodel', 'safe'],
      ['assets/foo.txt', 'text', 'safe'],
    ]);
    await copyFile(join(CORPUS, 'pip_main.pkl'), join(dir, 'extra.pkl'));
    await copyFile(join(CORPUS, 'pip_main.pkl'), join(dir, 'variables', 'variables.pkl'));
    const mixed = await scanJson(dir);
    expect(mixed.code).toBe(1);
    expect(mixed.files.map((f) => [f.path, f.format, f.verdict])).toEqual([
      ['', 'savedmodel', 'safe'],
      ['assets/foo.txt', 'text', 'safe'],
      ['extra.pkl', 'pickle', 'unsafe'],
      ['variables/variables.pkl', 'pickle', 'unsafe'],
    ]);
  });

  it('legacy tar checkpoints are judged; bz2/lzma joblib and unknown bytes are listed, never skipped', async () => {
    const dir = join(work, 'legacy');
    await mkdir(dir);
    await copyFile(join(FIXTURES, 'scan-folder/legacy_tar.pt'), join(dir, 'legacy_tar.pt'));
    const clean = await scanJson(dir);
    expect(clean).toEqual({
      code: 0,
      files: [{ path: 'legacy_tar.pt', format: 'pytorch-legacy-tar', verdict: 'safe', findings: [] }],
    });
    for (const name of ['arrays_bz2.joblib', 'arrays_lzma.joblib', 'legacy_tar_evil.pt'])
      await copyFile(join(FIXTURES, 'scan-folder', name), join(dir, name));
    await writeFile(join(dir, 'weights.bin'), Buffer.from([0xfe, 0xed, 0xfa, 0xce, 0x00, 0x00]));
    const { code, files } = await scanJson(dir);
    expect(code).toBe(1);
    expect(files.map((f) => f.path)).toEqual([
      'arrays_bz2.joblib',
      'arrays_lzma.joblib',
      'legacy_tar.pt',
      'legacy_tar_evil.pt',
      'weights.bin',
    ]);
    // joblib's bz2/lzma: judged when a decoder reads them, else an error; never a silent pass
    for (const f of files.slice(0, 2)) expect(f.verdict === 'error' || f.format === 'joblib').toBe(true);
    expect(files[3]).toMatchObject({
      format: 'pytorch-legacy-tar',
      verdict: 'unsafe',
      findings: [{ severity: 'critical', rule: 'dangerous-call' }],
    });
    expect(files[4]).toMatchObject({
      format: 'unknown',
      verdict: 'error',
      error: { code: 'FERRY_UNKNOWN_FORMAT' },
    });
    await rm(join(dir, 'legacy_tar_evil.pt'));
    expect((await ferry('scan', dir)).code).toBe(2);
  });

  it('files beside the weights: JSON and text are data, program source is a finding, escapes are not text', async () => {
    const dir = join(work, 'beside');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), '{"architectures": ["BertModel"]}\n');
    await writeFile(join(dir, 'README.md'), '# a model\n\nTrained on things.\n');
    await writeFile(join(dir, 'modeling_evil.py'), 'import os\nos.system("id")\n');
    await writeFile(join(dir, 'notes.txt'), 'fine\u001b[2Kbut an escape\n');
    const { code, files } = await scanJson(dir);
    expect(code).toBe(1);
    expect(files.map((f) => [f.path, f.format, f.verdict, f.findings.map((x) => x.rule).join()])).toEqual([
      ['README.md', 'text', 'safe', ''],
      ['config.json', 'json', 'safe', ''],
      ['modeling_evil.py', 'text', 'unsafe', 'source-code'],
      ['notes.txt', 'unknown', 'error', ''],
    ]);
  });

  it('a folder with nothing to judge is an error, not safe', async () => {
    const empty = join(work, 'empty');
    await mkdir(join(empty, 'sub'), { recursive: true });
    const { code, out } = await ferry('scan', empty);
    expect(code).toBe(2);
    expect(out).toContain(`${empty}: error: FERRY_UNKNOWN_FORMAT`);
  });
});
