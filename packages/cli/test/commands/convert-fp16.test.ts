import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMON_OPTIONS, type ParsedArgs } from '../../src/command.js';
import type { CliIO } from '../../src/io.js';
import { convertOnnxToFp16, FP16_OPTIONS } from '../../src/commands/convert-fp16.js';

function captureIO(): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  return { stdout, stderr, out: () => out, err: () => err };
}

/** Parses as main() does for a command with FP16_OPTIONS. */
function parse(argv: string[]): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries({ ...COMMON_OPTIONS, ...FP16_OPTIONS }).map(
      ([k, { description: _d, valueName: _v, ...spec }]) => [k, spec],
    ),
  );
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { positionals, values: values as ParsedArgs['values'] };
}

const fixture = (name: string) => new URL(`../../../../fixtures/optimize/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-fp16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convertOnnxToFp16 (ferry convert MODEL.onnx --fp16)', () => {
  it('converts keeping float32 I/O and reports verification', async () => {
    const io = captureIO();
    const out = join(dir, 'transformer.fp16.onnx');
    const args = parse([
      fixture('transformer.onnx'),
      '--fp16',
      '--keep-io-types',
      '-o',
      out,
      '--verify',
      '4',
    ]);
    expect(await convertOnnxToFp16(args, io)).toBe(0);
    expect(io.out()).toMatch(/\(float16, float32 inputs and outputs kept\)/);
    expect(io.out()).toMatch(/size: 202\.5 KiB -> 10\d\.\d KiB \(0\.5\dx\)/);
    expect(io.out()).toMatch(/verify \(4 random samples/);
    expect(existsSync(out)).toBe(true);
  });

  it('prints JSON with --json', async () => {
    const io = captureIO();
    const out = join(dir, 'topk.fp16.onnx');
    expect(await convertOnnxToFp16(parse([fixture('topk.onnx'), '--fp16', '-o', out, '--json']), io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      keepIoTypes: false,
      blockedNodes: ['/TopK'],
      convertedInitializers: 2,
    });
  });

  it('refuses a model that is already float16 and writes nothing', async () => {
    const once = join(dir, 'once.onnx');
    await convertOnnxToFp16(parse([fixture('mlp.onnx'), '--fp16', '-o', once]), captureIO());
    const twice = join(dir, 'twice.onnx');
    await expect(convertOnnxToFp16(parse([once, '--fp16', '-o', twice]), captureIO())).rejects.toMatchObject({
      code: 'FERRY_FP16_ALREADY',
    });
    expect(existsSync(twice)).toBe(false);
  });

  it('needs -o', async () => {
    await expect(convertOnnxToFp16(parse([fixture('mlp.onnx'), '--fp16']), captureIO())).rejects.toThrow(
      /needs -o OUT.onnx/,
    );
  });
});
