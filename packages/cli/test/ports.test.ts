import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';

/**
 * The built CLI (`npm test` builds it first) in its own process, against real sockets: a port that
 * another program holds is one line naming the flag that chose it, exit 2, and nothing left running.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/ferry.js', import.meta.url));
const MODEL = fileURLToPath(new URL('../../../fixtures/onnx/mlp.onnx', import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` to its exit (a process still running after 40 s is killed and fails the test). */
function ferry(args: readonly string[]): Promise<Ran> {
  const child = track(spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => {
    stdout += c;
  });
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  return new Promise((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `command ARGS` and resolves with the first stdout line `match` accepts. */
function startUntil(
  command: string,
  args: readonly string[],
  match: (line: string) => boolean,
): Promise<{ child: ChildProcess; line: string; output: () => string }> {
  const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (match(line)) resolve({ child, line, output: () => output });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${output}`)));
  });
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

/** Whether PID runs (an exited process its new parent has not reaped yet counts as stopped). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

let busy: Server;
let port: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  port = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

const inUse = (command: string, flag: string) =>
  `ferry ${command}: port ${port} on 127.0.0.1 is already in use: choose another with --${flag} PORT (0 = any free port)\n`;

describe('a port another program holds', () => {
  let data: string;
  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'ferry-ports-'));
  });
  afterAll(() => rm(data, { recursive: true, force: true }));

  it('ferry up: the registry port names --port, exit 2', async () => {
    const run = await ferry(['up', '--port', String(port), '--data', join(data, 'up1'), '--no-demo']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: inUse('up', 'port') });
  });

  it('ferry up: the inference port names --serve-port (or --http-port, when that name was used), exit 2', async () => {
    const a = await ferry(['up', '--port', '0', '--serve-port', String(port), '--data', join(data, 'up2')]);
    expect(a).toEqual({ code: 2, stdout: '', stderr: inUse('up', 'serve-port') });
    const b = await ferry(['up', '--port', '0', '--http-port', String(port), '--data', join(data, 'up3')]);
    expect(b).toEqual({ code: 2, stdout: '', stderr: inUse('up', 'http-port') });
  });

  it('ferry serve: the REST port names --serve-port (the same flag as up; --http-port still works), exit 2', async () => {
    const a = await ferry(['serve', MODEL, '--serve-port', String(port), '--log-level', 'error']);
    expect(a).toEqual({ code: 2, stdout: '', stderr: inUse('serve', 'serve-port') });
    const b = await ferry(['serve', MODEL, '--http-port', String(port), '--log-level', 'error']);
    expect(b).toEqual({ code: 2, stdout: '', stderr: inUse('serve', 'http-port') });
  });

  it("ferry serve: the gRPC port names --grpc-port, without grpc-js's own stderr line, exit 2", async () => {
    const run = await ferry([
      'serve',
      MODEL,
      '--serve-port',
      '0',
      '--grpc-port',
      String(port),
      '--log-level',
      'error',
    ]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: inUse('serve', 'grpc-port') });
  });

  it('ferry registry serve: the first-start admin token is in DATA/admin-token before the port fails; exit 2; a restart accepts it', async () => {
    const folder = join(data, 'registry');
    const run = await ferry(['registry', 'serve', '--port', String(port), '--data', folder]);
    const tokenFile = join(folder, 'admin-token');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `ferry registry: first-start admin token written to ${tokenFile}\n${inUse('registry', 'port')}`,
    );
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    const restarted = await startUntil(
      process.execPath,
      [BIN, 'registry', 'serve', '--port', '0', '--data', folder],
      (line) => line.startsWith('ferry registry listening on'),
    );
    try {
      const url = /listening on (http:\/\/\S+)/.exec(restarted.line)![1]!;
      expect((await new RegistryClient({ url, token }).whoami()).user).toBe('admin');
      expect(restarted.output()).not.toContain('first-start');
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await exited(restarted.child)).toBe(0);
    }
  });
});

describe('ferry serve port flags', () => {
  it('serves no gRPC unless --grpc-port is given', async () => {
    const started = await startUntil(
      process.execPath,
      [BIN, 'serve', MODEL, '--serve-port', '0', '--json', '--log-level', 'error'],
      (line) => line.includes('httpPort'),
    );
    started.child.kill('SIGTERM');
    expect(await exited(started.child)).toBe(0);
    expect(Object.keys(JSON.parse(started.line))).toEqual(['httpPort']);
  });

  it('refuses --serve-port and --http-port with different values', async () => {
    const run = await ferry(['serve', MODEL, '--serve-port', '0', '--http-port', '1']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'ferry serve: --serve-port and --http-port name the same port: give one of them (see ferry serve --help)\n',
    });
  });
});

describe('npx ferry serve', () => {
  let serverPid: number | undefined;
  afterAll(() => {
    // the server is npx's grandchild: should the test fail, it must not outlive the run
    if (serverPid !== undefined)
      try {
        process.kill(serverPid, 'SIGKILL');
      } catch {
        // stopped, as it should be
      }
  });

  it('stops when SIGTERM goes to the npx PID (npm passes it to its shell, which does not pass it on)', async () => {
    const started = await startUntil(
      'npx',
      ['ferry', 'serve', MODEL, '--serve-port', '0', '--json'],
      (line) => line.includes('"httpPort"'),
    );
    const { httpPort } = JSON.parse(started.line) as { httpPort: number };
    // the server's pino lines carry its PID (npx runs it as a grandchild)
    const log = started
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"level"'))!;
    serverPid = (JSON.parse(log) as { pid: number }).pid;
    expect(serverPid).not.toBe(started.child.pid);
    const url = `http://127.0.0.1:${httpPort}/v2/health/live`;
    expect((await fetch(url)).status).toBe(200);
    started.child.kill('SIGTERM');
    await exited(started.child);
    // the server drains and exits: its port stops answering
    await expect
      .poll(
        () =>
          fetch(url).then(
            () => 'answering',
            () => 'closed',
          ),
        { timeout: 20_000, interval: 100 },
      )
      .toBe('closed');
    await expect.poll(() => running(serverPid!), { timeout: 20_000, interval: 100 }).toBe(false);
  });
});
