import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/test-io.helper.js';

/**
 * Option values that once became NaN, a silent default or a crash are refused by options.ts
 * before anything is read, listened on or asked of a registry: one line naming the flag and the
 * rule, exit 2. Nothing here needs the file, registry or port the command names to exist.
 */
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(argv: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCli(argv);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  return stderr.trimEnd();
}

describe('option values the CLI refuses', () => {
  it('serve: a poll interval that is not a number of seconds, a model-control mode, a port', async () => {
    expect(await refused(['serve', dir, '--poll-interval', 'abc'])).toBe(
      'ferry serve: --poll-interval must be a number of seconds, > 0 and at most 86400 (got abc) (see ferry serve --help)',
    );
    // Number('') was 0 and Number('1e9') a 31-year timer that Node turns into 1 ms
    expect(await refused(['serve', dir, '--poll-interval', '1e9'])).toMatch(
      /--poll-interval must be a number of seconds/,
    );
    expect(await refused(['serve', dir, '--model-control', 'watch'])).toBe(
      'ferry serve: --model-control must be one of none, poll, explicit (got watch) (see ferry serve --help)',
    );
    expect(await refused(['serve', dir, '--metrics-port', '8o8o'])).toBe(
      'ferry serve: --metrics-port must be a port number 0-65535 (got 8o8o) (see ferry serve --help)',
    );
  });

  it('serve --registry: a registry that is not an http(s) URL, before any request', async () => {
    expect(await refused(['serve', '--registry', 'localhost:8080'])).toBe(
      'ferry serve: --registry must be a http:// or https:// URL (got localhost:8080) (see ferry serve --help)',
    );
  });

  it('up: a port past 65535 and a poll interval of 0, before the data folder is made', async () => {
    const data = join(dir, 'up-data');
    expect(await refused(['up', '--data', data, '--serve-port', '70000'])).toBe(
      'ferry up: --serve-port must be a port number 0-65535 (got 70000) (see ferry up --help)',
    );
    expect(await refused(['up', '--data', data, '--poll-interval', '0'])).toBe(
      'ferry up: --poll-interval must be a number of seconds, > 0 and at most 86400 (got 0) (see ferry up --help)',
    );
    expect(await refused(['up', '--data', data, '--db', 'mysql://db/x'])).toBe(
      'ferry up: --db must be a postgres:// or postgresql:// URL (got mysql://db/x) (see ferry up --help)',
    );
    expect(existsSync(data)).toBe(false);
  });

  it('registry serve: a negative port and an unknown auth mode, before the data folder is made', async () => {
    const data = join(dir, 'registry-data');
    expect(await refused(['registry', 'serve', '--data', data, '--port=-1'])).toBe(
      'ferry registry: --port must be a port number 0-65535 (got -1) (see ferry registry --help)',
    );
    expect(await refused(['registry', 'serve', '--data', data, '--auth', 'open'])).toBe(
      'ferry registry: --auth must be none or tokens (got open) (see ferry registry --help)',
    );
    expect(existsSync(data)).toBe(false);
  });

  it('quantize: a percentile and a weight-size floor that are not numbers', async () => {
    const base = ['quantize', join(dir, 'm.onnx'), '-o', join(dir, 'q.onnx')];
    expect(
      await refused([
        ...base,
        '--calibrate',
        join(dir, 'd.safetensors'),
        '--method',
        'percentile',
        '--percentile',
        'x',
      ]),
    ).toBe(
      'ferry quantize: --percentile must be a number above 50 and at most 100 (got x) (see ferry quantize --help)',
    );
    expect(await refused([...base, '--min-elements', '1.5'])).toBe(
      'ferry quantize: --min-elements must be an integer 0 or more (got 1.5) (see ferry quantize --help)',
    );
    expect(existsSync(join(dir, 'q.onnx'))).toBe(false);
  });

  it('lineage, push, diff, runs: depth, chunk size, tolerance and status', async () => {
    expect(await refused(['lineage', 'models:/m@prod', '--depth', 'all'])).toBe(
      'ferry lineage: --depth must be an integer 1-32 (got all) (see ferry lineage --help)',
    );
    expect(
      await refused(['push', join(dir, 'b.ferry'), 'oci://127.0.0.1:5000/m:1', '--chunk-size', '2048']),
    ).toBe('ferry push: --chunk-size must be an integer 1-1024 (got 2048) (see ferry push --help)');
    expect(await refused(['diff', join(dir, 'a'), join(dir, 'b'), '--atol', ' 1'])).toBe(
      'ferry diff: --atol must be a non-negative number (got " 1") (see ferry diff --help)',
    );
    expect(await refused(['runs', 'log', 'r1', '--status', 'done', '--registry', 'http://127.0.0.1:9'])).toBe(
      'ferry runs: --status must be one of running, finished, failed, killed (got done) (see ferry runs --help)',
    );
    expect(
      await refused(['runs', 'log', 'r1', '--metric', 'loss= ', '--registry', 'http://127.0.0.1:9']),
    ).toBe('ferry runs: --metric takes KEY=NUMBER[@STEP], got "loss= " (see ferry runs --help)');
  });
});
