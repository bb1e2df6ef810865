import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scanPath } from '../src/scan.js';
import { BufferSource } from '../src/tensor/byte-source.js';
import {
  checkInflatedSize,
  InflateBudget,
  inflateRange,
  MAX_INFLATED_TOTAL,
  openMember,
  openZip,
} from '../src/zip/index.js';
import {
  buildZip,
  centralDirectory,
  endRecord,
  localSection,
  PAYLOAD,
  zerosDeflate,
} from '../../../scripts/test/zip-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-zip-bomb-'));
const write = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const GiB = 1024 * 1024 * 1024;

/**
 * A member of about 1 MiB on disk declaring 2 GiB: more than deflate can produce from it
 * (MAX_INFLATE_RATIO, deflate's ceiling), so its sizes are a lie.
 */
function zerosMember(name: string) {
  return {
    name,
    data: new Uint8Array(0),
    method: 8 as const,
    claimedSize: 2 * GiB,
    body: zerosDeflate(1024),
  };
}

/**
 * 64 MiB of nearly-zero bytes that compress about 100:1 (inside MAX_INFLATE_RATIO, so only the
 * shared budget can stop them), written once and listed `count` times in the directory
 * (overlapping entries, D. Fifield's "better zip bomb").
 */
function overlappingBomb(count: number): Buffer {
  const data = new Uint8Array(64 * 1024 * 1024);
  let seed = 1;
  for (let i = 0; i < data.length; i += 40) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    data[i] = seed >>> 24;
  }
  // Starts like a pickle (PROTO 2), so a scanner reads it whole.
  data.set([0x80, 0x02]);
  const { bytes, written } = localSection([{ name: 'k.pkl', data, method: 8 }]);
  const listed = Array.from({ length: count }, (_, i) => ({
    ...written[0]!,
    spec: { ...written[0]!.spec, name: `m${i}.pkl` },
  }));
  const cd = centralDirectory(listed);
  return Buffer.concat([bytes, cd, endRecord(count, cd.length, bytes.length)]);
}

/** Peak RSS of a fresh Node process scanning `path` (MiB), printed for the test report. */
function peakRss(path: string): number {
  const script = `import('${new URL('../src/scan.ts', import.meta.url).pathname}').then(async (m) => {
    const r = await m.scanPath(${JSON.stringify(path)});
    process.stdout.write(JSON.stringify({ code: r.error?.code, rss: process.resourceUsage().maxRSS }));
  })`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  const { code, rss } = JSON.parse(out);
  expect(code).toBe('FERRY_LIMIT');
  return Math.round(rss / 1024);
}

describe('zip bombs are stopped by one bounded inflater (#24.5, CWE-409)', () => {
  it('a member declaring more than deflate can produce is refused before inflating, with FERRY_LIMIT', async () => {
    const zip = await openZip(new BufferSource(buildZip([zerosMember('archive/data.pkl')]), 'bomb.zip'));
    const member = await openMember(zip, zip.entries[0]!);
    // A header-sized read is fine (what npz inspection and scan sniffing do) ...
    expect((await member.read(0, 16)).length).toBe(16);
    // ... the whole member is over MAX_INFLATE_RATIO.
    await expect(member.read(0, member.size)).rejects.toMatchObject({ code: 'FERRY_LIMIT' });
    const result = await scanPath(write('bomb.pt', buildZip([zerosMember('archive/data.pkl')])));
    expect(result).toMatchObject({ verdict: 'error', error: { code: 'FERRY_LIMIT' } });
    expect(result.error!.message).toMatch(/archive\/data\.pkl: inflated size .*MAX_INFLATE_RATIO 1032:1/);
  });

  it('an honest member near the deflate ceiling (np.savez_compressed of zeros) is not a bomb', async () => {
    const zip = await openZip(
      new BufferSource(
        buildZip([
          { name: 'w.npy', data: new Uint8Array(0), method: 8, claimedSize: GiB, body: zerosDeflate(1024) },
        ]),
        'zeros.npz',
      ),
    );
    expect(() => checkInflatedSize(zip, zip.entries[0]!)).not.toThrow();
    const member = await openMember(zip, zip.entries[0]!);
    expect(Array.from(await member.read(GiB - 8, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('a member that lies small inflates no further than it claims', async () => {
    const zip = await openZip(
      new BufferSource(buildZip([{ ...zerosMember('data.pkl'), claimedSize: 1000 }]), 'liar.zip'),
    );
    expect((await inflateRange(zip, zip.entries[0]!, 0, 1000)).length).toBe(1000);
  });

  it('overlapping members share one budget: FERRY_LIMIT once MAX_INFLATED_TOTAL is spent', async () => {
    const bomb = overlappingBomb(24); // 24 x 64 MiB = 1.5 GiB from < 1 MiB
    const result = await scanPath(write('overlap-bomb.zip', bomb));
    // The overlap is a finding before the budget runs out: unsafe, with the limit noted (#16.4).
    expect(result).toMatchObject({ verdict: 'unsafe', error: { code: 'FERRY_LIMIT' } });
    expect(result.findings.map((f) => f.rule)).toContain('zip-overlap');
    expect(result.error!.message).toContain('MAX_INFLATED_TOTAL');
    const budget = new InflateBudget();
    expect(budget.remaining).toBe(MAX_INFLATED_TOTAL);
  });

  it('nested zips (zip in zip, npz in zip) draw on the same budget', async () => {
    const inner = overlappingBomb(24);
    const outer = buildZip([{ name: 'inner.zip', data: inner, method: 8 }]);
    expect(outer.length).toBeLessThan(inner.length);
    const result = await scanPath(write('nested-bomb.zip', outer));
    expect(result).toMatchObject({ verdict: 'unsafe', error: { code: 'FERRY_LIMIT' } });
    // An npz inside a zip whose object-array member is a bomb: refused the same way.
    const dict = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
    const npy = Buffer.from(`\x93NUMPY\x01\x00\x76\x00${dict.padEnd(117, ' ')}\n`, 'latin1');
    expect(npy.length).toBe(128);
    const npz = buildZip([
      { name: 'a.npy', data: new Uint8Array(0), method: 8, claimedSize: GiB, body: deflateRawSync(npy) },
    ]);
    const wrapped = await scanPath(
      write('npz-in-zip.zip', buildZip([{ name: 'x.npz', data: npz, method: 8 }])),
    );
    expect(wrapped.verdict).not.toBe('safe');
  });

  it('keeps the scanning process small (peak RSS, reported)', () => {
    const single = peakRss(write('rss-single.pt', buildZip([zerosMember('archive/data.pkl')])));
    const nested = peakRss(
      write('rss-nested.zip', buildZip([{ name: 'inner.zip', data: overlappingBomb(24), method: 8 }])),
    );
    console.log(`peak RSS scanning bombs: 1 GiB member ${single} MiB, nested 1.5 GiB ${nested} MiB`);
    // Bounded by the budget plus one member in memory, never the bomb's declared size.
    expect(nested).toBeLessThan(1024 + 512);
    expect(single).toBeLessThan(512);
  });

  it('a payload next to a bomb member is unsafe, and the bomb stops the scan', async () => {
    const result = await scanPath(
      write(
        'mixed.zip',
        buildZip([
          { name: 'archive/data.pkl', data: PAYLOAD },
          {
            name: 'archive/data/0',
            data: new Uint8Array(0),
            method: 8,
            claimedSize: 2 * GiB,
            body: zerosDeflate(1024),
          },
        ]),
      ),
    );
    // The payload ran before the bomb: unsafe, with the limit noted (#16.4).
    expect(result).toMatchObject({ verdict: 'unsafe', error: { code: 'FERRY_LIMIT' } });
    expect(result.findings.some((f) => f.severity === 'critical')).toBe(true);
  });
});
