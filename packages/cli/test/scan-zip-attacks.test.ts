import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { constants, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-zip-'));

async function ferry(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const code = await main(argv, { stdout, stderr });
  return { code, out };
}

/** pickle.loads runs os.system('echo pwned'). */
const PAYLOAD = Buffer.from('\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.', 'latin1');

/** A one-member zip whose deflated member claims `claimed` bytes (APPNOTE 4.3). */
function oneMemberZip(name: string, body: Buffer, claimed: number): Buffer {
  const fileName = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(claimed, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(claimed, 24);
  central.writeUInt16LE(fileName.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + fileName.length, 12);
  end.writeUInt32LE(30 + fileName.length + body.length, 16);
  return Buffer.concat([local, fileName, body, central, fileName, end]);
}

describe('ferry scan on zip attacks', () => {
  it('exits 1 for a pickle+zip polyglot and for two central directories', async () => {
    const polyglot = join(dir, 'polyglot.pt');
    writeFileSync(polyglot, Buffer.concat([PAYLOAD, readFileSync(`${FIXTURES}pickle/torch/state_dict.pt`)]));
    const first = await ferry('scan', polyglot);
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/CRITICAL dangerous-call: calls os\.system/);
    expect(first.out).toMatch(/MEDIUM polyglot: the file parses as/);
    const differential = await ferry('scan', `${FIXTURES}zip/two-directories.pt`);
    expect(differential.code).toBe(1);
    expect(differential.out).toMatch(/HIGH zip-differential: zip loaders read different archives/);
  });

  it('exits 2 with FERRY_LIMIT for a zip bomb (2 GiB declared in about 1 MiB: past the deflate ceiling)', async () => {
    const mib = deflateRawSync(new Uint8Array(1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH });
    const body = Buffer.concat([...Array.from({ length: 1024 }, () => mib), Buffer.from([0x03, 0x00])]);
    const bomb = join(dir, 'bomb.npz');
    writeFileSync(bomb, oneMemberZip('a.npy', body, 2 * 1024 * 1024 * 1024));
    const { code, out } = await ferry('scan', bomb);
    expect(code).toBe(2);
    expect(out).toMatch(/error: FERRY_LIMIT: .*a\.npy: inflated size .*MAX_INFLATE_RATIO/);
  });
});
