import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIO } from './io.js';
import { main } from './main.js';

function captureIO(): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  return { stdout, stderr, out: () => out, err: () => err };
}

describe('ferry main', () => {
  it('lists the commands with --help and exits 0', async () => {
    const io = captureIO();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toMatch(/Usage: ferry COMMAND/);
    expect(io.out()).toMatch(/inspect\s+show what a model file/);
  });

  it('exits 2 with one line for an unknown command, a bad option, or a missing file', async () => {
    let io = captureIO();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.err()).toBe("ferry: unknown command 'frobnicate' (see ferry --help)\n");

    io = captureIO();
    expect(await main(['inspect', '--bogus', 'x'], io)).toBe(2);
    expect(io.err()).toBe('ferry inspect: unknown option --bogus (see ferry inspect --help)\n');

    io = captureIO();
    expect(await main(['inspect', '/nonexistent/model.onnx'], io)).toBe(2);
    expect(io.err()).toBe(
      'ferry inspect: FERRY_NOT_FOUND: /nonexistent/model.onnx: no such file or folder\n',
    );
  });

  it('prints the stack only with --debug', async () => {
    const io = captureIO();
    expect(await main(['inspect', '/nonexistent/model.onnx', '--debug'], io)).toBe(2);
    expect(io.err()).toMatch(/FERRY_NOT_FOUND[^\n]*\n[\s\S]*at /);
  });

  it('shows per-command help', async () => {
    const io = captureIO();
    expect(await main(['inspect', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/Usage: ferry inspect PATH/);
    expect(io.out()).toMatch(/--json/);
  });

  it('refuses a file no format recognises, naming it', async () => {
    const io = captureIO();
    expect(await main(['inspect', new URL('../package.json', import.meta.url).pathname], io)).toBe(2);
    expect(io.err()).toMatch(/FERRY_UNKNOWN_FORMAT: .*package.json: not a model file ferry recognises/);
  });
});
