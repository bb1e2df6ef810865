/**
 * The load generator for the serve benchmark, run in its own process so it does not share an
 * event loop with the server: `concurrency` clients send one request after another for
 * `seconds` (after a short warmup) and the latencies are reported as JSON on stdout.
 * Usage: node --import tsx bench/lib/serve-load.ts '<json options>'
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_OPTIONS, PROTO_PATH } from '@ferry/serve';
import { GrpcLoadClient, grpcFrame } from './grpc-load-client.js';
import { encodeRequest, LoadConnection } from './http-load-client.js';
import { busiestOtherMs, threadCpuMs } from './proc-cpu.js';

interface Options {
  kind: 'json' | 'binary' | 'grpc';
  port: number;
  model: string;
  features: number;
  concurrency: number;
  seconds: number;
  /** The input's name (default x) and one row's shape (default [features]). */
  input?: string;
  rowShape?: number[];
  /** The server's process id: its CPU (main thread and the rest) is read over the measured seconds. */
  serverPid?: number;
}

const options = JSON.parse(process.argv[2]!) as Options;
/**
 * FERRY_BENCH_TRACE=DIR: each measured request's start (ms since the epoch) and latency, and the
 * load generator's own GC pauses, written to DIR/load-PID.json, to lay the slowest requests
 * against the server's GC pauses (serve-main.mjs writes those to the same DIR).
 */
const traceDir = process.env.FERRY_BENCH_TRACE;
const gcPauses: [number, number, number][] = [];
if (traceDir)
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      gcPauses.push([performance.timeOrigin + e.startTime, e.duration, (e.detail as { kind: number }).kind]);
  }).observe({ entryTypes: ['gc'] });
const starts: number[] = [];
const row = Array.from({ length: options.features }, (_, i) => Math.sin(i));
const inputName = options.input ?? 'x';
const shape = [1, ...(options.rowShape ?? [options.features])];

/** Done callback of one request: an error, or undefined once a 200 answer has been read whole. */
type Done = (error: Error | undefined, fatal?: boolean) => void;
type Send = (done: Done) => void;

/** One lean keep-alive connection per client (bench/lib/http-load-client.ts), the request prebuilt. */
async function httpSenders(): Promise<Send[]> {
  let body: Buffer;
  const headers: Record<string, string | number> = {};
  if (options.kind === 'json') {
    body = Buffer.from(JSON.stringify({ inputs: [{ name: inputName, shape, datatype: 'FP32', data: row }] }));
    headers['content-type'] = 'application/json';
  } else {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: inputName,
            shape,
            datatype: 'FP32',
            parameters: { binary_data_size: options.features * 4 },
          },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    body = Buffer.concat([header, Buffer.from(new Float32Array(row).buffer)]);
    headers['content-type'] = 'application/octet-stream';
    headers['inference-header-content-length'] = header.length;
  }
  const host = '127.0.0.1';
  const request = encodeRequest(`${host}:${options.port}`, {
    method: 'POST',
    path: `/v2/models/${options.model}/infer`,
    headers,
    body,
  });
  const connections = await Promise.all(
    Array.from({ length: options.concurrency }, () => LoadConnection.open(host, options.port, request)),
  );
  return connections.map(
    (connection) => (done: Done) =>
      connection.send((error, status) => {
        if (error) done(error, true);
        else done(status === 200 ? undefined : new Error(`HTTP ${status}`));
      }),
  );
}

/**
 * The request is encoded once (protobufjs, the same encoder the server's proto describes) and sent
 * through the lean HTTP/2 client; the answer is not decoded, as the HTTP client reads only the
 * status: the load generator should measure the server, not its own protobuf and channel code.
 */
async function grpcSenders(): Promise<Send[]> {
  const proto = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  const method = proto.inference.GRPCInferenceService.service.ModelInfer!;
  const frame = grpcFrame(
    method.requestSerialize({
      model_name: options.model,
      inputs: [{ name: inputName, datatype: 'FP32', shape }],
      raw_input_contents: [Buffer.from(new Float32Array(row).buffer)],
    }),
  );
  const client = await GrpcLoadClient.open(`http://127.0.0.1:${options.port}`);
  const send: Send = (done) => client.call(method.path, frame, (error) => done(error));
  return Array.from({ length: options.concurrency }, () => send);
}

const senders = options.kind === 'grpc' ? await grpcSenders() : await httpSenders();

/** Each client sends its next request when the last is answered, until `seconds` have passed. */
function drive(seconds: number, latencies: number[] | undefined): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let errors = 0;
  let active = senders.length;
  return new Promise((resolve) => {
    const stopped = () => {
      if (--active === 0) resolve(errors);
    };
    for (const send of senders) {
      const next = (): void => {
        if (performance.now() >= end) {
          stopped();
          return;
        }
        const start = performance.now();
        send((error, fatal) => {
          if (error) errors++;
          else if (latencies) {
            latencies.push(performance.now() - start);
            if (traceDir) starts.push(performance.timeOrigin + start);
          }
          if (fatal)
            stopped(); // the connection is gone: this client stops
          else next();
        });
      };
      next();
    }
  });
}

await drive(0.5, undefined);
const latencies: number[] = [];
const server = () => (options.serverPid === undefined ? undefined : threadCpuMs(options.serverPid));
const serverBefore = server();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const errors = await drive(options.seconds, latencies);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const serverAfter = server();
// the server's CPU over exactly the measured seconds: its main thread (event loop) and the rest
const serverCpu = serverBefore &&
  serverAfter && {
    serverMainMs: serverAfter.main - serverBefore.main,
    serverOthersMs: serverAfter.others - serverBefore.others,
    serverBusiestOtherMs: busiestOtherMs(options.serverPid!, serverBefore.threads, serverAfter.threads),
  };
if (traceDir)
  writeFileSync(
    join(traceDir, `load-${process.pid}.json`),
    JSON.stringify({ starts, latencies, gc: gcPauses, kind: options.kind, model: options.model }),
  );
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / seconds, p50: at(0.5), p90: at(0.9), p95: at(0.95), p99: at(0.99), p999: at(0.999), max: latencies.at(-1) ?? Number.NaN, cpuMs: (cpu.user + cpu.system) / 1000, ...serverCpu })}\n`,
);
process.exit(0);
