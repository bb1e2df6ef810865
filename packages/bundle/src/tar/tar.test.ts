import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBundleError } from '../errors.js';
import { BLOCK, encodeHeader, padding, paxRecord } from './header.js';
import { readTarIndex } from './reader.js';
import { TarWriter } from './writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tar-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LONG = `${'deep/'.repeat(30)}file-with-a-long-name.bin`;
const UNICODE = 'docs/résumé-模型.md';

async function writeSample(path: string): Promise<void> {
  const source = join(dir, 'source.bin');
  await writeFile(source, Buffer.alloc(1500, 7));
  const file = await open(path, 'w');
  const tar = new TarWriter(file);
  await tar.addBytes('a.txt', false, Buffer.from('hello\n'));
  await tar.addFile('bin/run.sh', true, source, 1500);
  await tar.addBytes(LONG, false, Buffer.from('long'));
  await tar.addBytes(UNICODE, false, Buffer.from('unicode'));
  await tar.addBytes('empty', false, new Uint8Array(0));
  await tar.finish();
  await file.close();
}

/** A raw archive from hand-made headers, for the entries ferry's writer never makes. */
function rawTar(
  entries: { name: string; type?: string; data?: string; link?: string; pax?: string }[],
): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (e.pax !== undefined) {
      const body = Buffer.from(e.pax);
      parts.push(
        encodeHeader({ name: 'PaxHeader', mode: 0o644, size: body.length, type: 'x' }),
        body,
        new Uint8Array(padding(body.length)),
      );
    }
    const data = Buffer.from(e.data ?? '');
    const header = encodeHeader({ name: e.name, mode: 0o644, size: data.length, type: e.type ?? '0' });
    if (e.link) {
      header.set(Buffer.from(e.link), 157);
      header.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of header) sum += b;
      header.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    }
    parts.push(header, data, new Uint8Array(padding(data.length)));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return Buffer.concat(parts);
}

describe('tar writer and reader', () => {
  it('writes archives GNU tar reads back byte for byte, with fixed owners, times and modes', async () => {
    const path = join(dir, 'sample.tar');
    await writeSample(path);
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', path], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing).toEqual([
      '-rw-r--r-- 0/0               6 1970-01-01 00:00 a.txt',
      '-rwxr-xr-x 0/0            1500 1970-01-01 00:00 bin/run.sh',
      `-rw-r--r-- 0/0               4 1970-01-01 00:00 ${LONG}`,
      `-rw-r--r-- 0/0               7 1970-01-01 00:00 ${UNICODE}`,
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 empty',
    ]);
    const out = join(dir, 'gnu-out');
    await mkdir(out);
    execFileSync('tar', ['-xf', path, '-C', out]);
    expect(await readFile(join(out, 'bin/run.sh'))).toEqual(Buffer.alloc(1500, 7));
    expect(await readFile(join(out, UNICODE), 'utf8')).toBe('unicode');
  });

  it('indexes its own archives and GNU tar POSIX archives', async () => {
    const path = join(dir, 'sample.tar');
    await writeSample(path);
    const entries = await readTarIndex(path);
    expect(entries.map((e) => [e.path, e.size, e.mode.toString(8)])).toEqual([
      ['a.txt', 6, '644'],
      ['bin/run.sh', 1500, '755'],
      [LONG, 4, '644'],
      [UNICODE, 7, '644'],
      ['empty', 0, '644'],
    ]);
    const bytes = await readFile(path);
    const run = entries[1]!;
    expect(bytes.subarray(run.dataOffset, run.dataOffset + run.size)).toEqual(Buffer.alloc(1500, 7));

    const gnu = join(dir, 'gnu.tar');
    execFileSync('tar', [
      '--format=posix',
      '-cf',
      gnu,
      '-C',
      join(dir, 'gnu-out'),
      'a.txt',
      'bin',
      'deep',
      'docs',
      'empty',
    ]);
    const gnuEntries = await readTarIndex(gnu);
    expect(gnuEntries.map((e) => e.path).sort()).toEqual(
      ['a.txt', 'bin/run.sh', LONG, UNICODE, 'empty'].sort(),
    );
  });

  it('copies a multi-chunk file exactly (the read/hash/write ring)', async () => {
    const big = Buffer.alloc(13 * 1024 * 1024 + 5);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const source = join(dir, 'big.bin');
    await writeFile(source, big);
    const path = join(dir, 'big.tar');
    const file = await open(path, 'w');
    const tar = new TarWriter(file);
    const entry = await tar.addFile('big.bin', false, source, big.length);
    await tar.addBytes('after.txt', false, Buffer.from('after'));
    await tar.finish();
    await file.close();
    expect(entry.sha256).toBe(createHash('sha256').update(big).digest('hex'));
    const out = join(dir, 'big-out');
    await mkdir(out);
    execFileSync('tar', ['-xf', path, '-C', out]);
    expect((await readFile(join(out, 'big.bin'))).equals(big)).toBe(true);
    expect(await readFile(join(out, 'after.txt'), 'utf8')).toBe('after');
    // A file that shrank after it was listed is an error, not a short entry.
    const again = await open(join(dir, 'short.tar'), 'w');
    await expect(new TarWriter(again).addFile('big.bin', false, source, big.length + 10)).rejects.toThrow(
      /shrank while being packed/,
    );
    await again.close();
  });

  it('pax records count their own length', () => {
    for (const value of ['x', 'a'.repeat(93), 'a'.repeat(94), 'a'.repeat(994), 'a'.repeat(995)]) {
      const record = paxRecord('path', value);
      expect(Buffer.byteLength(record)).toBe(Number(record.split(' ')[0]));
    }
  });
});

describe('tar reader refuses what a bundle must not hold', () => {
  const cases: [string, Parameters<typeof rawTar>[0], RegExp][] = [
    [
      'a .. path (tar slip)',
      [{ name: '../evil.sh', data: 'x' }],
      /entry "\.\.\/evil\.sh" refused: its path must stay inside/,
    ],
    ['a .. path inside', [{ name: 'a/../../evil', data: 'x' }], /must stay inside the project folder/],
    [
      'an absolute path',
      [{ name: '/etc/cron.d/evil', data: 'x' }],
      /"\/etc\/cron\.d\/evil" refused: its path must be relative/,
    ],
    [
      'a pax path escaping',
      [{ name: 'ok.txt', data: 'x', pax: paxRecord('path', '../../x') }],
      /"\.\.\/\.\.\/x" refused/,
    ],
    [
      'a symbolic link',
      [{ name: 'link', type: '2', link: '/etc/passwd' }],
      /is a symbolic link to "\/etc\/passwd"; bundles hold only regular files/,
    ],
    ['a hard link', [{ name: 'hard', type: '1', link: '../outside' }], /is a hard link to "\.\.\/outside"/],
    ['a character device', [{ name: 'null', type: '3' }], /is a character device/],
    ['a block device', [{ name: 'sda', type: '4' }], /is a block device/],
    ['a FIFO', [{ name: 'fifo', type: '6' }], /is a FIFO/],
    ['a GNU long name', [{ name: '././@LongLink', type: 'L', data: '../x' }], /is a GNU long name/],
    [
      'a duplicate entry',
      [
        { name: 'a', data: '1' },
        { name: 'a', data: '2' },
      ],
      /"a" refused: appears twice/,
    ],
    [
      'a file that is also a folder',
      [
        { name: 'a', data: '1' },
        { name: 'a/b', data: '2' },
      ],
      /its folder "a" is also a file/,
    ],
    ['a backslash path', [{ name: 'a\\..\\b', data: '1' }], /must use \/ as separator/],
    [
      'an oversized pax header',
      [{ name: 'a', data: '1', pax: paxRecord('comment', 'x'.repeat(70_000)) }],
      /pax header at byte 0: is \d+ bytes, over MAX_PAX_BYTES/,
    ],
    ['a malformed pax record', [{ name: 'a', data: '1', pax: '99 path=a\n' }], /does not end in a newline/],
  ];
  it.each(cases)('%s', async (_name, entries, message) => {
    const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.tar`);
    await writeFile(path, rawTar(entries));
    await expect(readTarIndex(path)).rejects.toThrow(message);
  });

  it('refuses archives GNU tar makes with symlinks', async () => {
    const src = join(dir, 'links');
    await mkdir(src);
    await symlink('/etc/passwd', join(src, 'passwd'));
    const path = join(dir, 'links.tar');
    execFileSync('tar', ['--format=posix', '-cf', path, '-C', src, 'passwd']);
    await expect(readTarIndex(path)).rejects.toMatchObject({ code: 'FERRY_BUNDLE_UNSAFE_ENTRY' });
  });

  it('refuses bad checksums, truncation and a missing end', async () => {
    const good = rawTar([{ name: 'a', data: 'hello' }]);
    const badSum = Buffer.from(good);
    badSum[0] = 0x62;
    await writeFile(join(dir, 'sum.tar'), badSum);
    await expect(readTarIndex(join(dir, 'sum.tar'))).rejects.toThrow(/checksum \d+ does not match/);
    await writeFile(join(dir, 'cut.tar'), good.subarray(0, 600));
    await expect(readTarIndex(join(dir, 'cut.tar'))).rejects.toThrow(/run past the end|ends without/);
    await writeFile(join(dir, 'noend.tar'), good.subarray(0, 1024));
    await expect(readTarIndex(join(dir, 'noend.tar'))).rejects.toThrow(/ends without its two zero blocks/);
  });
});

describe('tar reader fuzz', () => {
  it('answers mutated archives with a BundleError or an index, nothing else', async () => {
    const path = join(dir, 'sample.tar');
    await writeSample(path);
    const base = await readFile(path);
    const target = join(dir, 'fuzz.tar');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(base.length - 1), bit: fc.nat(7) }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat(base.length - 1), bit: fc.constant(0) }),
          fc.record({ kind: fc.constant('splice' as const), at: fc.nat(base.length - 1), bit: fc.nat(255) }),
        ),
        async ({ kind, at, bit }) => {
          let bytes = Buffer.from(base);
          if (kind === 'flip') bytes[at]! ^= 1 << bit;
          else if (kind === 'cut') bytes = bytes.subarray(0, at);
          else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(bit, 0x37), bytes.subarray(at)]);
          await writeFile(target, bytes);
          try {
            const entries = await readTarIndex(target);
            for (const e of entries) expect(e.dataOffset + e.size).toBeLessThanOrEqual(bytes.length);
          } catch (error) {
            if (!isBundleError(error)) throw error;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
