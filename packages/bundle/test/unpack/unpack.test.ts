import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeManifest, MANIFEST_MEDIA_TYPE } from '../../src/pack/bundle-manifest.js';
import { packBundle } from '../../src/pack/pack.js';
import { FIXTURE_PROJECT } from '../test-project.helper.js';
import { generateKeyFiles } from '../../src/sign/keys.js';
import { signBundle } from '../../src/sign/sign.js';
import { BLOCK, encodeHeader, headerChecksum, padding } from '../../src/tar/header.js';
import { readTarIndex } from '../../src/tar/reader.js';
import { unpackBundle } from '../../src/unpack/unpack.js';

let dir: string;
let bundle: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-unpack-'));
  bundle = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 'sentiment.ferry') })).path;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A hand-made archive with a valid manifest for its regular files, plus whatever `extra` adds. */
function craft(entries: { name: string; data?: string; type?: string; link?: string }[]): Buffer {
  const parts: Uint8Array[] = [];
  const files: { path: string; size: number; sha256: string; mode: string; role: 'file' }[] = [];
  const add = (name: string, data: Buffer, type = '0', link?: string) => {
    const header = encodeHeader({ name, mode: 0o644, size: data.length, type });
    if (link) {
      header.set(Buffer.from(link), 157);
      header.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of header) sum += b;
      header.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    }
    parts.push(header, data, new Uint8Array(padding(data.length)));
  };
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    add(e.name, data, e.type, e.link);
    files.push({
      path: e.name,
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      mode: '0644',
      role: 'file',
    });
  }
  add(
    '.ferry/manifest.json',
    Buffer.from(
      encodeManifest({ mediaType: MANIFEST_MEDIA_TYPE, name: 'x', version: '1', models: [], files }),
    ),
  );
  parts.push(new Uint8Array(2 * BLOCK));
  return Buffer.concat(parts);
}

async function listTree(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

describe('ferry unpack', () => {
  it('extracts every file with its bytes and mode, checked against the manifest', async () => {
    const out = join(dir, 'out');
    const result = await unpackBundle(bundle, out);
    expect(result.files).toBe(6);
    expect(await readFile(join(out, 'model/classifier.onnx'))).toEqual(
      await readFile(join(FIXTURE_PROJECT, 'model/classifier.onnx')),
    );
    expect(await readFile(join(out, 'handler.mjs'), 'utf8')).toBe(
      await readFile(join(FIXTURE_PROJECT, 'handler.mjs'), 'utf8'),
    );
    expect((await stat(join(out, 'ferry.yaml'))).mode & 0o777).toBe(0o644);
    expect(JSON.parse(await readFile(join(out, '.ferry/manifest.json'), 'utf8')).name).toBe('sentiment');
    // The unpacked handler runs against the unpacked vocabulary.
    const handler = await import(join(out, 'handler.mjs'));
    const expected = JSON.parse(await readFile(join(FIXTURE_PROJECT, 'expected.json'), 'utf8'));
    for (const sample of expected.samples) expect(handler.tokenize(sample.text)).toEqual(sample.input_ids);
  });

  it('refuses a folder that is not empty, and verifies a signature first when given a key', async () => {
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'x'), '');
    await expect(unpackBundle(bundle, busy)).rejects.toMatchObject({ code: 'FERRY_BUNDLE_OUTPUT' });
    const keys = await generateKeyFiles(join(dir, 'k'));
    await signBundle(bundle, keys.privateKey);
    const result = await unpackBundle(bundle, join(dir, 'verified'), { publicKey: keys.publicKey });
    expect(result.verified?.name).toBe('sentiment');
    const other = await generateKeyFiles(join(dir, 'other'));
    await expect(
      unpackBundle(bundle, join(dir, 'never'), { publicKey: other.publicKey }),
    ).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_SIGNATURE',
    });
    await expect(stat(join(dir, 'never'))).rejects.toThrow(/ENOENT/);
  });

  /** The signed bundle with one tar header's mode rewritten (checksum fixed): the bytes stay signed. */
  async function withHeaderMode(source: string, entryPath: string, mode: number): Promise<string> {
    const bytes = await readFile(source);
    const entry = (await readTarIndex(source)).find((e) => e.path === entryPath)!;
    const header = bytes.subarray(entry.headerOffset, entry.headerOffset + BLOCK);
    header.set(Buffer.from(`${mode.toString(8).padStart(7, '0')}\0`), 100);
    header.set(Buffer.from(`${headerChecksum(header).toString(8).padStart(6, '0')}\0 `), 148);
    const out = join(dir, `mode-${mode.toString(8)}-${Math.random().toString(36).slice(2)}.ferry`);
    await writeFile(out, bytes);
    await writeFile(`${out}.sig`, await readFile(`${source}.sig`));
    return out;
  }

  it.each([
    [
      '0755 where the signed manifest says 0644',
      0o755,
      /"ferry\.yaml" has mode 0755 in its tar header, the manifest says 0644/,
    ],
    ['setuid 04644', 0o4644, /"ferry\.yaml" has mode 4644 in its tar header, the manifest says 0644/],
    ['group and world writable 0666', 0o666, /"ferry\.yaml" has mode 0666 in its tar header/],
  ])(
    'refuses a signed bundle whose tar header mode is %s (nothing written, not "verified")',
    async (_name, mode, message) => {
      const keys = await generateKeyFiles(join(dir, `mode-keys-${mode.toString(8)}`));
      await signBundle(bundle, keys.privateKey);
      const tampered = await withHeaderMode(bundle, 'ferry.yaml', mode);
      // The bytes are unchanged, so the signature itself still verifies: only the header differs.
      expect((await readTarIndex(tampered)).find((e) => e.path === 'ferry.yaml')!.mode).toBe(mode);
      const parent = await mkdtemp(join(dir, 'mode-parent-'));
      await expect(
        unpackBundle(tampered, join(parent, 'out'), { publicKey: keys.publicKey }),
      ).rejects.toThrow(message);
      await expect(unpackBundle(tampered, join(parent, 'out'))).rejects.toMatchObject({
        code: 'FERRY_BUNDLE_MANIFEST',
      });
      expect(await listTree(parent)).toEqual([]);
    },
  );

  it('writes the modes the signed manifest records', async () => {
    const out = join(dir, 'modes-out');
    const result = await unpackBundle(bundle, out);
    for (const file of result.manifest.files)
      expect(((await stat(join(out, file.path))).mode & 0o7777).toString(8).padStart(4, '0')).toBe(file.mode);
    expect((await stat(join(out, '.ferry/manifest.json'))).mode & 0o7777).toBe(0o644);
  });

  it('checks digests while extracting and leaves nothing behind on a mismatch', async () => {
    const bytes = await readFile(bundle);
    const entry = (await readTarIndex(bundle)).find((e) => e.path === 'vocab.txt')!;
    bytes[entry.dataOffset]! ^= 0x20;
    const bad = join(dir, 'bad.ferry');
    await writeFile(bad, bytes);
    const parent = join(dir, 'parent');
    await mkdir(parent);
    await expect(unpackBundle(bad, join(parent, 'out'))).rejects.toThrow(
      /"vocab\.txt" has sha256 .* the manifest says .*nothing was unpacked/,
    );
    expect(await readdir(parent)).toEqual([]);
  });

  const slips: [string, Parameters<typeof craft>[0], RegExp][] = [
    ['.. (tar slip)', [{ name: '../../../tmp/ferry-slip', data: 'owned' }], /its path must stay inside/],
    ['an absolute path', [{ name: '/tmp/ferry-slip-abs', data: 'owned' }], /its path must be relative/],
    [
      'a symlink out of the root',
      [
        { name: 'link', type: '2', link: '/etc' },
        { name: 'link/passwd', data: 'x' },
      ],
      /is a symbolic link to "\/etc"/,
    ],
    ['a hard link out of the root', [{ name: 'h', type: '1', link: '../../etc/passwd' }], /is a hard link/],
    ['a device file', [{ name: 'dev', type: '3' }], /is a character device/],
    [
      'a duplicate entry',
      [
        { name: 'a.txt', data: 'safe' },
        { name: 'a.txt', data: 'evil' },
      ],
      /appears twice/,
    ],
  ];
  it.each(slips)('refuses %s before writing anything', async (_name, entries, message) => {
    const path = join(dir, `slip-${Math.random().toString(36).slice(2)}.ferry`);
    await writeFile(path, craft(entries));
    const parent = await mkdtemp(join(dir, 'slip-parent-'));
    await expect(unpackBundle(path, join(parent, 'out'))).rejects.toThrow(message);
    expect(await listTree(parent)).toEqual([]);
    await expect(stat('/tmp/ferry-slip')).rejects.toThrow(/ENOENT/);
    await expect(stat('/tmp/ferry-slip-abs')).rejects.toThrow(/ENOENT/);
  });

  it('refuses an oversized pax header and an archive without a manifest', async () => {
    const pax = Buffer.from(`${'x'.repeat(70_000)}`);
    const archive = Buffer.concat([
      encodeHeader({ name: 'PaxHeader', mode: 0o644, size: pax.length, type: 'x' }),
      pax,
      new Uint8Array(padding(pax.length)),
      new Uint8Array(2 * BLOCK),
    ]);
    await writeFile(join(dir, 'pax.ferry'), archive);
    await expect(unpackBundle(join(dir, 'pax.ferry'), join(dir, 'pax-out'))).rejects.toThrow(
      /over MAX_PAX_BYTES/,
    );
    const plain = join(dir, 'plain.tar');
    execFileSync('tar', ['--format=posix', '-cf', plain, '-C', FIXTURE_PROJECT, 'ferry.yaml']);
    await expect(unpackBundle(plain, join(dir, 'plain-out'))).rejects.toThrow(
      /\.ferry\/manifest\.json: is missing: this is not a ferry bundle/,
    );
  });
});
