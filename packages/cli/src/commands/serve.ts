import { homedir } from 'node:os';
import { join } from 'node:path';
import { type PreparedBundle, prepareBundleServe } from '@ferry/bundle';
import { parseModelUri, type RegistryClient } from '@ferry/registry-client';
import { type DeploymentSpec, deploymentName, type ModelControlMode, startServer } from '@ferry/serve';
import type { Command, ParsedArgs } from '../command.js';
import { readDeploymentConfig } from '../deploy/config-file.js';
import type { CliIO } from '../io.js';
import { OCI_OPTIONS, ociCredentials } from '../oci-options.js';
import { enumOption, pathOption, portOption, seconds, stringList, stringOption } from '../options.js';
import { explainListenError } from '../port-flags.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { UsageError } from '../usage-error.js';
import { isBundleTarget } from '../serve-bundle.js';
import { SERVE_LIMIT_OPTIONS, serveLimits } from '../serve-limit-options.js';

const MODES: readonly ModelControlMode[] = ['none', 'poll', 'explicit'];

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve models over the Open Inference Protocol v2 (REST + gRPC) with dynamic batching',
  usage:
    'serve REPO|model.onnx|SAVEDMODEL_DIR|BUNDLE|oci://HOST/REPO:TAG|models:/NAME@ALIAS [--require-signature --pub KEY] [--registry URL] [--serve-port 8000] [--grpc-port PORT] [--host 127.0.0.1] [--metrics-port N] [--model-control none|poll|explicit]',
  options: {
    'serve-port': {
      type: 'string',
      valueName: 'PORT',
      description: 'REST port (default 8000, 0 = any free port; the same flag as ferry up)',
    },
    'http-port': { type: 'string', valueName: 'PORT', description: 'old name of --serve-port' },
    'grpc-port': {
      type: 'string',
      valueName: 'PORT',
      description: 'also serve gRPC on this port (default off; 8001 is the usual one, 0 = any free port)',
    },
    host: { type: 'string', valueName: 'ADDR', description: 'address to listen on (default 127.0.0.1)' },
    'metrics-port': {
      type: 'string',
      valueName: 'PORT',
      description: 'serve /metrics here instead of on the REST port',
    },
    'model-control': {
      type: 'string',
      valueName: 'MODE',
      description: 'none (load all once), poll (watch REPO), explicit (load/unload API)',
    },
    'load-model': {
      type: 'string',
      multiple: true,
      valueName: 'NAME',
      description: "with explicit control: load NAME at startup ('*' = all); repeatable",
    },
    'poll-interval': {
      type: 'string',
      valueName: 'SECONDS',
      description: 'with poll control: rescan period (default 5)',
    },
    'repository-api': {
      type: 'boolean',
      description: 'enable /v2/repository/* routes, guarded by the bearer token in $FERRY_SERVE_TOKEN',
    },
    pub: {
      type: 'string',
      valueName: 'KEY',
      description: 'bundle: verify its signature with this public key before unpacking',
    },
    signature: {
      type: 'string',
      valueName: 'SIG',
      description: 'bundle: the signature file (default BUNDLE.sig; oci:// uses the referrer)',
    },
    'require-signature': {
      type: 'boolean',
      description: 'bundle: refuse a bundle without a valid signature (needs --pub)',
    },
    ...SERVE_LIMIT_OPTIONS,
    ...OCI_OPTIONS,
    name: {
      type: 'string',
      valueName: 'SERVED',
      description: 'models:/ URI: the name to serve it under (default: NAME with / as -)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      description: "models:/ URI: serving config (config.yaml's fields); default the deployment's",
    },
    ...REGISTRY_OPTIONS,
    'cache-dir': {
      type: 'string',
      valueName: 'DIR',
      description:
        'SavedModels: where their ONNX conversions are cached (default under the OS temp folder); models:/ URI or --registry: where versions are downloaded (default ~/.cache/ferry/models)',
    },
    heartbeat: {
      type: 'string',
      valueName: 'SECONDS',
      description:
        "models:/ URI or --registry: re-send each deployment's state this often (default 10; the registry shows an endpoint offline after its --deployment-expiry, 30 s)",
    },
    'log-level': {
      type: 'string',
      valueName: 'LEVEL',
      description: 'fatal, error, warn, info (default), debug',
    },
  },
  async run(args, io) {
    const path = args.positionals[0];
    if (args.positionals.length > 1 || (!path && args.values.registry === undefined))
      throw new UsageError(
        'serve takes one REPO folder, model file, SavedModel folder or models:/NAME@ALIAS (or --registry URL alone: every deployment)',
      );
    // the flags are read before the registry is asked: a bad value costs no round trip
    const mode = enumOption(args.values, 'model-control', MODES) ?? 'none';
    const pollInterval = seconds(args.values, 'poll-interval');
    const heartbeatMs = seconds(args.values, 'heartbeat');
    const limits = serveLimits(args);
    const cacheDir = pathOption(args.values, 'cache-dir');
    const metricsPort = portOption(args.values, ['metrics-port']);
    const host = stringOption(args.values, 'host') ?? '127.0.0.1';
    const httpPort = portOption(args.values, ['serve-port', 'http-port']) ?? 8000;
    // gRPC only when asked: a second fixed port is a second chance to collide with another server
    const grpcPort = portOption(args.values, ['grpc-port']) ?? null;
    const publicKey = pathOption(args.values, 'pub');
    const signature = pathOption(args.values, 'signature');
    const registry =
      path === undefined || path.startsWith('models:/') ? await registryMode(args, io, path) : undefined;
    const pollIntervalMs = pollInterval ?? (registry ? 2000 : 5000);
    let token: string | undefined;
    if (args.values['repository-api']) {
      token = process.env.FERRY_SERVE_TOKEN;
      if (!token || token.length < 16)
        throw new UsageError(
          '--repository-api needs FERRY_SERVE_TOKEN set to a secret of at least 16 characters',
        );
    }
    // A bundle (file or oci://) is pulled, verified, unpacked into a temp folder and served as a
    // repository with its handler; the temp folder goes when the server stops.
    let bundle: PreparedBundle | undefined;
    if (!registry && path !== undefined && (await isBundleTarget(path))) {
      const credentials = ociCredentials(args);
      bundle = await prepareBundleServe(path, {
        ...(publicKey !== undefined && { publicKey }),
        ...(signature !== undefined && { signature }),
        requireSignature: args.values['require-signature'] === true,
        ...(credentials && { credentials }),
      });
      io.stderr.write(
        `ferry serve: bundle ${bundle.manifest.name} ${bundle.manifest.version}${bundle.verified ? ` (signature verified, sha256:${bundle.verified.digest})` : ' (not signature-checked: no --pub)'}; handler route: ${bundle.handlers.map((h) => `POST /v2/models/${h.model}/handler`).join(', ') || 'none'}\n`,
      );
    } else if (args.values['require-signature'] || publicKey !== undefined)
      throw new UsageError('--pub and --require-signature apply to bundles (a .ferry file or oci://)');
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        ...(registry
          ? { registry: { ...registry, ...(heartbeatMs !== undefined && { heartbeatMs }) } }
          : { path: bundle?.repository ?? path }),
        ...(bundle && { handlers: bundle.handlers }),
        host,
        httpPort,
        grpcPort,
        ...(metricsPort !== undefined && { metricsPort }),
        modelControl: mode,
        loadModels: stringList(args.values, 'load-model') ?? [],
        pollIntervalMs,
        ...(token !== undefined && { repositoryToken: token }),
        logLevel: stringOption(args.values, 'log-level') ?? 'info',
        ...(cacheDir !== undefined && { cacheDir }),
        limits,
      });
    } catch (error) {
      await bundle?.cleanup();
      throw explainListenError(error, host, [
        { flag: args.values['http-port'] !== undefined ? 'http-port' : 'serve-port', port: httpPort },
        ...(grpcPort !== null ? [{ flag: 'grpc-port', port: grpcPort }] : []),
        ...(metricsPort !== undefined ? [{ flag: 'metrics-port', port: metricsPort }] : []),
      ]);
    }
    // SIGTERM / SIGINT: stop accepting, close idle connections, finish what is queued and running
    // (until --drain-timeout), exit 0. Listened for before the ports are printed: a supervisor may
    // signal as soon as it reads them.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        server
          .close()
          .then(() => bundle?.cleanup())
          .then(resolve, resolve);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    if (args.values.json)
      io.stdout.write(
        `${JSON.stringify({ httpPort: server.httpPort, grpcPort: server.grpcPort, metricsPort: server.metricsPort })}\n`,
      );
    await stopped;
    return 0;
  },
};

/**
 * `ferry serve models:/NAME@ALIAS`: one deployment, registered in the registry when the token may
 * (so the registry shows where the version runs); `ferry serve --registry URL`: every deployment.
 */
async function registryMode(
  args: ParsedArgs,
  io: CliIO,
  uri: string | undefined,
): Promise<{ client: RegistryClient; cacheDir: string; deployments?: DeploymentSpec[] }> {
  const client = await registryClient(args);
  const cacheDir =
    pathOption(args.values, 'cache-dir') ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferry', 'models');
  if (uri === undefined) return { client, cacheDir };
  const parsed = parseModelUri(uri);
  if (!parsed.alias) throw new UsageError(`serve follows an alias: give models:/${parsed.model}@ALIAS`);
  const name = stringOption(args.values, 'name') ?? deploymentName(parsed.model);
  const configFile = pathOption(args.values, 'config');
  const given = configFile !== undefined ? await readDeploymentConfig(configFile) : undefined;
  const existing = await client.getDeployment(name).catch(() => undefined);
  const same = existing && existing.model === parsed.model && existing.alias === parsed.alias;
  const config = given ?? (same ? existing.config : null);
  if (!same || given) {
    try {
      await client.putDeployment(name, { model: parsed.model, alias: parsed.alias, config });
    } catch (error) {
      // reading is enough to serve; without write access the registry just does not hear about it
      io.stderr.write(
        `ferry serve: note: not recorded as a deployment in ${client.url} (${(error as Error).message})\n`,
      );
    }
  }
  return { client, cacheDir, deployments: [{ name, model: parsed.model, alias: parsed.alias, config }] };
}
