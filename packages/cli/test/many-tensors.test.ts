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
  let err = '';
  stdout.on('data', (d) => out.push(Buffer.from(d)));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr });
  return { code, out: Buffer.concat(out).toString('utf8'), err };
}

/** A safetensors file in the format's layout: `count` F32 tensors of 2 elements, element i = tensor index. */
function manySafetensors(count: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++)
    parts.push(`"layer.${i}.w":{"dtype":"F32","shape":[2],"data_offsets":[${i * 8},${i * 8 + 8}]}`);
  let header = `{${parts.join(',')}}`;
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const data = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i++) {
    data.writeFloatLE(i, i * 8);
    data.writeFloatLE(-i, i * 8 + 4);
  }
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, Buffer.from(header), data]);
}

/** A GGUF v3 file (ggml/docs/gguf.md): one KV, `count` F32 tensors of one element, 32-byte aligned. */
function manyGguf(count: number): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  const str = (s: string) => {
    u64(Buffer.byteLength(s));
    parts.push(Buffer.from(s));
  };
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(count);
  u64(1);
  str('general.architecture');
  u32(8); // string
  str('llama');
  for (let i = 0; i < count; i++) {
    str(`blk.${i}.w`);
    u32(1);
    u64(1);
    u32(0); // F32
    u64(i * 32);
  }
  const size = parts.reduce((sum, p) => sum + p.length, 0);
  parts.push(Buffer.alloc((32 - (size % 32)) % 32), Buffer.alloc(count * 32));
  return Buffer.concat(parts);
}

/** Issue #24: 200k tensors overflowed the call stack in `inspect`; 300k tiny tensors converted in 37 s. */
describe('files with hundreds of thousands of tensors', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-many-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('ferry inspect lists 200,000 safetensors tensors and 200,000 GGUF tensors', {
    timeout: 240_000,
  }, async () => {
    const st = join(work, 'many.safetensors');
    await writeFile(st, manySafetensors(200_000));
    const a = await ferry('inspect', st);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/\n {2}layer\.199999\.w +F32 +\[2\] +8\n/);
    expect(a.out.trimEnd().split('\n').pop()).toBe('200,000 tensors, 400,000 parameters, 1.53 MiB');
    const gguf = join(work, 'many.gguf');
    await writeFile(gguf, manyGguf(200_000));
    const b = await ferry('inspect', gguf);
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/\n {2}blk\.199999\.w +F32 +\[1\] +4\n/);
  });

  it('ferry convert writes 300,000 tiny tensors, every value in place', { timeout: 240_000 }, async () => {
    const input = join(work, 'c.safetensors');
    const output = join(work, 'out.safetensors');
    await writeFile(input, manySafetensors(300_000));
    const { code, out, err } = await ferry('convert', input, '-o', output);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/300,000 tensors/);
    const bytes = await readFile(output);
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString()) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    expect(Object.keys(header)).toHaveLength(300_000);
    const data = 8 + length;
    for (const i of [0, 1, 9, 10, 12_345, 299_999]) {
      const [begin, end] = header[`layer.${i}.w`]!.data_offsets;
      expect(end - begin).toBe(8);
      expect([bytes.readFloatLE(data + begin), bytes.readFloatLE(data + begin + 4)]).toEqual([i, -i]);
    }
  });
});
