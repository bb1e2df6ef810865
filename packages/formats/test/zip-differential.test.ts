import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPath } from '../src/scan.js';
import { BufferSource } from '../src/tensor/byte-source.js';
import { findEntry, openMember, openZip, readingDifferences } from '../src/zip/index.js';
import {
  BENIGN,
  buildZip,
  centralDirectory,
  endRecord,
  localSection,
  PAYLOAD,
  twoDirectoryZip64,
} from '../../../scripts/test/zip-builder.js';

const ZIP = new URL('../../../fixtures/zip/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ferry-zip-diff-'));
const write = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const version = { name: 'archive/version', data: Buffer.from('3\n') };

describe('zip read as each loader reads it (#24.1)', () => {
  it('follows the ZIP64 locator as torch does, and the record before it as CPython does (real torch file)', async () => {
    // fixtures/make/zip_differential.py: torch.load read x = 1.0 from this file, zipfile 2.0.
    const expected = JSON.parse(readFileSync(`${ZIP}two-directories.json`, 'utf8'));
    const zip = await openZip(new BufferSource(readFileSync(`${ZIP}two-directories.pt`), 'two.pt'));
    const value = async (loader: string) => {
      const reading = zip.readings.find((r) => r.loader === loader)!;
      const entry = reading.entries.find((e) => e.name === 'archive/data/0')!;
      const member = await openMember(zip, entry);
      const bytes = await member.read(0, 4);
      return new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
    };
    expect(await value('miniz')).toBe(expected.torch_load_x);
    expect(await value('zipfile')).toBe(expected.zipfile_data_0);
    const zipfile = zip.readings.find((r) => r.loader === 'zipfile')!;
    expect(Object.fromEntries(zipfile.entries.map((e) => [e.name, e.localHeaderOffset]))).toEqual(
      expected.zipfile_header_offsets,
    );
    expect(zip.readings.find((r) => r.loader === 'miniz')!.location.zip64RecordOffset).toBe(
      expected.miniz_record_offset,
    );
    // The file starts with a local header: torch.load treats it as a zip, so ferry follows miniz.
    expect(zip.loader).toBe('miniz');
    expect(readingDifferences(zip).length).toBeGreaterThan(0);
    const result = await scanPath(`${ZIP}two-directories.pt`);
    expect(result.verdict).toBe('unsafe');
    expect(result.findings[0]).toMatchObject({ severity: 'high', rule: 'zip-differential' });
  });

  it('finds the payload torch.load runs behind a clean directory that zipfile reads', async () => {
    const path = write(
      'two-cd.pt',
      twoDirectoryZip64(
        [{ name: 'archive/data.pkl', data: PAYLOAD }, version],
        [{ name: 'archive/data.pkl', data: BENIGN }, version],
      ),
    );
    const result = await scanPath(path);
    expect(result.verdict).toBe('unsafe');
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        rule: 'dangerous-call',
        message: expect.stringContaining('os.system'),
      }),
    );
    expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'zip-differential' }));
    // And the other way round: the payload only where CPython's zipfile looks.
    const other = await scanPath(
      write(
        'two-cd-zipfile.pt',
        twoDirectoryZip64(
          [{ name: 'archive/data.pkl', data: BENIGN }, version],
          [{ name: 'archive/data.pkl', data: PAYLOAD }, version],
        ),
      ),
    );
    expect(other.findings).toContainEqual(
      expect.objectContaining({ severity: 'critical', rule: 'dangerous-call' }),
    );
  });

  it('a local header that disagrees with the directory on size or method is a finding', async () => {
    const bytes = buildZip([{ name: 'archive/data.pkl', data: BENIGN }, version]);
    bytes.writeUInt32LE(BENIGN.length + 100, 22); // the local header's inflated size
    const result = await scanPath(write('local-size.pt', bytes));
    expect(result.verdict).toBe('unsafe');
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        severity: 'medium',
        rule: 'zip-local-mismatch',
        location: 'archive/data.pkl',
      }),
    );
    const renamed = await scanPath(
      write(
        'local-name.pt',
        buildZip([{ name: 'archive/data.pkl', data: BENIGN, localName: 'archive/other.pkl' }]),
      ),
    );
    expect(renamed.findings).toContainEqual(expect.objectContaining({ rule: 'zip-name-mismatch' }));
  });

  it('duplicate names, also differing only in case (miniz looks names up ignoring case), are findings and both are scanned', async () => {
    const result = await scanPath(
      write(
        'dupes.pt',
        buildZip([
          { name: 'archive/data.pkl', data: BENIGN },
          { name: 'ARCHIVE/DATA.PKL', data: PAYLOAD },
          version,
        ]),
      ),
    );
    expect(result.verdict).toBe('unsafe');
    expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'zip-duplicate-name' }));
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        location: expect.stringContaining('ARCHIVE/DATA.PKL'),
      }),
    );
  });

  it('two directory entries over the same bytes (overlapping members) are a finding', async () => {
    const { bytes, written } = localSection([{ name: 'archive/data.pkl', data: BENIGN }]);
    const cd = centralDirectory([
      written[0]!,
      { ...written[0]!, spec: { ...written[0]!.spec, name: 'archive/b.pkl' } },
    ]);
    const zip = Buffer.concat([bytes, cd, endRecord(2, cd.length, bytes.length)]);
    const result = await scanPath(write('overlap.zip', zip));
    expect(result.verdict).toBe('unsafe');
    expect(result.findings).toContainEqual(
      expect.objectContaining({ severity: 'medium', rule: 'zip-overlap' }),
    );
  });

  it('reads a plain archive the same way for both loaders: no finding', async () => {
    const zip = await openZip(
      new BufferSource(buildZip([{ name: 'a/data.pkl', data: BENIGN }, version]), 'ok.pt'),
    );
    expect(zip.readings.map((r) => r.loader)).toEqual(['miniz', 'zipfile']);
    expect(readingDifferences(zip)).toEqual([]);
    expect(findEntry(zip, 'archive/version')).toBeDefined();
  });
});
