import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { PROTO_OPTIONS, PROTO_PATH, type RunningServer, startServer } from '../src/index.js';
import type { ServeOptions } from '../src/server.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/serve/', import.meta.url));

type Expected = Record<
  string,
  {
    inputs: Record<string, { shape: number[]; data: unknown[] }>;
    outputs: Record<string, { shape: number[]; data: unknown[] }>;
  }
>;
export const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected & {
  identity: Record<string, unknown[]>;
};

/** A private copy of chosen fixture models (tests that write configs or reload need their own). */
export function makeRepo(models: Record<string, string | null>): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
  for (const [name, config] of Object.entries(models)) {
    cpSync(join(FIXTURES, name), join(root, name), { recursive: true });
    if (config !== null) writeFileSync(join(root, name, 'config.yaml'), config);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly grpc: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  /** A unary gRPC call as a promise. */
  call<T = Record<string, unknown>>(method: string, request: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startTestServer(
  path: string,
  options: Partial<ServeOptions> = {},
): Promise<TestServer> {
  const server = await startServer({
    path,
    httpPort: 0,
    grpcPort: 0,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const proto = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  const client = new proto.inference.GRPCInferenceService(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as TestServer['grpc'];
  return {
    server,
    url: `http://127.0.0.1:${server.httpPort}`,
    grpc: client,
    call<T>(method: string, request: unknown) {
      return new Promise<T>((resolve, reject) =>
        (client[method] as (r: unknown, cb: (e: Error | null, v: T) => void) => void).call(
          client,
          request,
          (error, value) => (error ? reject(error) : resolve(value)),
        ),
      );
    },
    async close() {
      client.close();
      await server.close();
    },
  };
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

export async function getJson(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A Prometheus counter's value from /metrics text (0 when the series is absent). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inside.split(',').includes(w)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export function closeTo(actual: readonly number[], expected: readonly number[], tolerance = 1e-5): boolean {
  return (
    actual.length === expected.length &&
    actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)))
  );
}
