import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

async function ferry(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d) => out.push(Buffer.from(d)));
  stderr.on('data', (d) => err.push(Buffer.from(d)));
  const code = await main(argv, { stdout, stderr });
  return { code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
}

/** What a terminal acts on: C0 but the newline, DEL, C1 (U+009B is CSI), bidi overrides and isolates. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Erase the line, move up, and print a verdict of its own: what a crafted name tried (issue #24). */
const CRAFTED = '\u001b[2K\u001b[1A\r\nevil.pkl: pickle: safe\u009b2J\u202e\u0007\b\u007f';

/** A protocol 4 pickle calling os.<name>() through STACK_GLOBAL, so the name may hold any byte. */
function craftedPickle(name: string): Buffer {
  const text = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([0x8c, bytes.length]), bytes]); // SHORT_BINUNICODE
  };
  return Buffer.concat([
    Buffer.from([0x80, 0x04]),
    text('os'),
    text(name),
    Buffer.from([0x93, 0x29, 0x52, 0x2e]), // STACK_GLOBAL, EMPTY_TUPLE, REDUCE, STOP
  ]);
}

/** A safetensors file (the format's own layout) with one F32 tensor of the given name. */
function safetensors(name: string, value: number): Buffer {
  let header = JSON.stringify({ [name]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  header += ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  const data = Buffer.alloc(4);
  data.writeFloatLE(value);
  return Buffer.concat([length, Buffer.from(header), data]);
}

describe('human-readable output escapes control characters from files', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-terminal-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('ferry scan: a pickle global named with escape sequences cannot erase lines or print "safe"', async () => {
    const file = join(work, 'crafted.pkl');
    await writeFile(file, craftedPickle(`system${CRAFTED}`));
    const { code, out } = await ferry('scan', file);
    expect(code).toBe(1);
    expect(out).not.toMatch(RAW_CONTROL);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${file}: pickle: unsafe (1 findings)`);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(
      '\\x1b[2K\\x1b[1A\\x0d\\x0aevil.pkl: pickle: safe\\x9b2J\\u{202e}\\x07\\x08\\x7f',
    );
    // JSON stays JSON: the name round-trips exactly, with no raw control character on the terminal
    const json = await ferry('scan', '--json', file);
    expect(json.out).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.out).files[0].findings[0].message).toContain(`system${CRAFTED}`);
  });

  it('ferry inspect and diff: tensor names with escape sequences are printed visibly, one line each', async () => {
    const a = join(work, 'a.safetensors');
    const b = join(work, 'b.safetensors');
    await writeFile(a, safetensors(`w${CRAFTED}`, 1));
    await writeFile(b, safetensors(`w${CRAFTED}`, 2));
    const inspect = await ferry('inspect', a);
    expect(inspect.code).toBe(0);
    expect(inspect.out).not.toMatch(RAW_CONTROL);
    expect(inspect.out).toContain('w\\x1b[2K\\x1b[1A\\x0d\\x0aevil.pkl: pickle: safe');
    expect(inspect.out).not.toMatch(/^evil\.pkl/m);
    const json = await ferry('inspect', '--json', a);
    expect(json.out).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.out).tensors[0].name).toBe(`w${CRAFTED}`);
    const diff = await ferry('diff', a, b);
    expect(diff.code).toBe(1);
    expect(diff.out).not.toMatch(RAW_CONTROL);
    expect(diff.out).not.toMatch(/^evil\.pkl/m);
    expect(await readFile(a)).toEqual(safetensors(`w${CRAFTED}`, 1)); // nothing written
  });

  it('errors on stderr are one escaped line', async () => {
    const file = join(work, `bad${CRAFTED}.safetensors`);
    await writeFile(file, Buffer.from('not a model at all'));
    const { code, err } = await ferry('inspect', file);
    expect(code).toBe(2);
    expect(err).not.toMatch(RAW_CONTROL);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
  });
});
