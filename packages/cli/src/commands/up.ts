import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { startServer } from '@ferry/serve';
import { pino } from 'pino';
import type { Command, ParsedArgs } from '../command.js';
import { printJson } from '../io.js';
import { type DemoResult, DEMO_MODEL, registerDemo } from '../up/demo.js';
import { POSTGRES_PROTOCOLS, pathOption, portOption, seconds, stringOption, urlOption } from '../options.js';
import { explainListenError } from '../port-flags.js';
import { type TokenSource, tokenProblem, upToken } from '../up/token.js';
import { UsageError } from '../usage-error.js';

/** The address a URL should name: a wildcard bind is reached through the loopback address. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export const upCommand: Command = {
  name: 'up',
  summary: 'run the registry and the inference server in one process (with --demo: a model to call at once)',
  usage:
    'up [--data DIR] [--port 8080] [--serve-port 8000] [--host 127.0.0.1] [--demo] [--db postgres://... --blobs oci://HOST:PORT/NS]',
  options: {
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'data folder: SQLite, blobs, admin token, model cache (default ./.ferry)',
    },
    port: {
      type: 'string',
      valueName: 'PORT',
      description: 'registry (API and UI) port (default 8080; 0 = any free port)',
    },
    'serve-port': {
      type: 'string',
      valueName: 'PORT',
      description:
        'inference server port, Open Inference Protocol v2 REST (default 8000, or any free port with --port 0; the same flag as ferry serve)',
    },
    'http-port': {
      type: 'string',
      valueName: 'PORT',
      description: 'another name of --serve-port (as ferry serve once called it)',
    },
    'grpc-port': {
      type: 'string',
      valueName: 'PORT',
      description: 'also serve gRPC on this port (default off)',
    },
    host: { type: 'string', valueName: 'ADDR', description: 'address both listen on (default 127.0.0.1)' },
    demo: {
      type: 'boolean',
      description:
        'on a fresh data folder, register, alias and deploy a real example model (asked on a terminal)',
    },
    'no-demo': { type: 'boolean', description: 'never ask about the demo' },
    db: {
      type: 'string',
      valueName: 'URL',
      description:
        'postgres://... for metadata instead of SQLite (another start on it with a fresh --data takes its token from FERRY_TOKEN)',
    },
    blobs: {
      type: 'string',
      valueName: 'URI',
      description: 'oci://HOST:PORT/NAMESPACE for blobs instead of the folder',
    },
    'poll-interval': {
      type: 'string',
      valueName: 'SECONDS',
      description: 'how often the server checks the aliases it follows (default 1)',
    },
    'log-level': {
      type: 'string',
      valueName: 'LEVEL',
      description: 'inference server log level (default warn)',
    },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('up takes no arguments');
    const v = args.values;
    const data = resolve(pathOption(v, 'data') ?? '.ferry');
    const host = stringOption(v, 'host') ?? '127.0.0.1';
    const db = urlOption(v, 'db', POSTGRES_PROTOCOLS);
    // --blobs is checked by the registry (FERRY_REGISTRY_BAD_REQUEST names the form it takes)
    const blobs = stringOption(v, 'blobs');
    const logLevel = stringOption(v, 'log-level') ?? 'warn';
    const registryPort = portOption(v, ['port']) ?? 8080;
    const servePort = portOption(v, ['serve-port', 'http-port']) ?? (registryPort === 0 ? 0 : 8000);
    const grpcPort = portOption(v, ['grpc-port']) ?? null;
    const ports = [
      { flag: 'port', port: registryPort },
      { flag: v['http-port'] !== undefined ? 'http-port' : 'serve-port', port: servePort },
      ...(grpcPort !== null ? [{ flag: 'grpc-port', port: grpcPort }] : []),
    ];
    const pollIntervalMs = seconds(v, 'poll-interval') ?? 1000;
    await mkdir(data, { recursive: true });
    const tokenFile = join(data, 'admin-token');

    const notes: string[] = [];
    const registry = await startRegistry({
      data,
      port: registryPort,
      host,
      ...(db && { db }),
      ...(blobs && { blobs }),
      adminTokenFile: tokenFile,
      // The embedded server subscribes to alias.moved at its own loopback address: let that one
      // private target through, and no other (webhook targets are public-only by default).
      webhookTargets: { allow: ['127.0.0.0/8', '::1'] },
      log: (line) => notes.push(line),
    }).catch((error: unknown) => {
      throw explainListenError(error, host, ports);
    });
    // UI seam: the registry serves its web UI itself when @ferry/registry mounts one at `/`.
    const hasUi = registry.app.hasRoute({ method: 'GET', url: '/' });
    const registryUrl = `http://${urlHost(host)}:${(registry.app.server.address() as { port: number }).port}`;
    const fresh = registry.adminToken !== undefined;
    const { token, source } = await upToken(registry.adminToken, tokenFile);
    let client = new RegistryClient({ url: registryUrl, ...(token && { token }) });
    const problem = source === 'first-start' ? undefined : await tokenProblem(client, source, tokenFile);
    if (problem) {
      notes.push(problem);
      // A refused token would fail even the public reads: carry on anonymously.
      client = new RegistryClient({ url: registryUrl });
    }

    let demo: DemoResult | undefined;
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      if (await wantsDemo(v, fresh, io)) {
        const exists = await client.getModel(DEMO_MODEL).then(
          () => true,
          () => false,
        );
        if (exists) notes.push(`ferry up: the demo model ${DEMO_MODEL} is already registered`);
        else demo = await registerDemo(client);
      }
      server = await startServer({
        registry: { client, cacheDir: join(data, 'serve-cache') },
        // the web UI's deployments page reads this server's /metrics from the registry's origin
        metricsCorsOrigins: [registryUrl],
        host,
        httpPort: servePort,
        grpcPort,
        pollIntervalMs,
        logger: pino({ level: logLevel }, pino.destination(2)),
      });
    } catch (error) {
      await server?.close();
      await registry.close();
      throw explainListenError(error, host, ports);
    }
    const serveUrl = `http://${urlHost(host)}:${server.httpPort}`;

    // listened for before the start-up lines are printed: a supervisor may signal as soon as it reads them
    const stopped = new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        server!
          .close()
          .then(() => registry.close())
          .then(done, done);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    if (v.json)
      printJson(io, {
        registry: registryUrl,
        inference: serveUrl,
        ui: hasUi ? `${registryUrl}/` : null,
        grpcPort: server.grpcPort ?? null,
        data,
        adminToken: registry.adminToken ?? null,
        adminTokenFile: tokenFile,
        demo: demo ?? null,
      });
    else {
      const lines = [
        `ferry up: registry   ${registryUrl}  (API /api/v1, MLflow /api/2.0/mlflow, API docs /docs)`,
        hasUi ? `ferry up: web UI     ${registryUrl}/` : undefined,
        `ferry up: inference  ${serveUrl}  (Open Inference Protocol v2; serves the registry's deployments)`,
        server.grpcPort !== undefined
          ? `ferry up: gRPC       ${urlHost(host)}:${server.grpcPort}`
          : undefined,
        `ferry up: data       ${db ? `metadata ${redact(db)}` : join(data, 'registry.db')}; blobs ${blobs ?? join(data, 'blobs')}`,
        ...tokenLines(source, problem === undefined, registry.adminToken, tokenFile, registryUrl),
      ];
      if (demo)
        lines.push(
          `ferry up: demo       models:/${demo.model}@prod -> version ${demo.prod}, deployed as ${demo.deployment} (version ${demo.candidate} waits to be promoted)`,
          `  curl -s ${serveUrl}/v2/models/${demo.deployment}/infer -d '${JSON.stringify(demo.request)}'`,
          `  npx ferry alias set ${demo.model} prod ${demo.candidate}    # promote; the server swaps versions without dropping a request`,
        );
      for (const line of [
        ...lines.filter((l) => l !== undefined),
        // the registry's own "first-start admin token written to" line: the token line above says it
        ...notes.filter((n) => !n.startsWith('ferry registry: first-start admin token')),
      ])
        io.stdout.write(`${line}\n`);
    }

    await stopped;
    return 0;
  },
};

/** Where the admin token is and how to use it (without a usable one, a note below says why). */
function tokenLines(
  source: TokenSource,
  accepted: boolean,
  firstStart: string | undefined,
  tokenFile: string,
  registryUrl: string,
): string[] {
  if (source === 'first-start')
    return [
      `ferry up: admin token ${firstStart}  (first start; kept in ${tokenFile}, mode 0600)`,
      `ferry up: use it:    export FERRY_REGISTRY=${registryUrl} FERRY_TOKEN=$(cat ${tokenFile})`,
    ];
  if (!accepted) return [`ferry up: use it:    export FERRY_REGISTRY=${registryUrl}`];
  if (source === 'env')
    return [
      'ferry up: admin token from FERRY_TOKEN',
      `ferry up: use it:    export FERRY_REGISTRY=${registryUrl}`,
    ];
  return [
    `ferry up: admin token in ${tokenFile}`,
    `ferry up: use it:    export FERRY_REGISTRY=${registryUrl} FERRY_TOKEN=$(cat ${tokenFile})`,
  ];
}

/** --demo says yes; on a fresh folder at a terminal the user is asked; otherwise no. */
async function wantsDemo(
  v: ParsedArgs['values'],
  fresh: boolean,
  io: { stdout: NodeJS.WritableStream & { isTTY?: boolean } },
): Promise<boolean> {
  if (v.demo) return true;
  if (v['no-demo'] || !fresh || !process.stdin.isTTY || !io.stdout.isTTY || v.json) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question('ferry up: fresh data folder. Register and deploy a demo model? [Y/n] ');
    return !/^n/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** A connection string's password stays off the screen. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
