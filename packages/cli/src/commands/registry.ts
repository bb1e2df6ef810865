import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '@ferry/registry';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import {
  enumOption,
  POSTGRES_PROTOCOLS,
  pathOption,
  portOption,
  seconds,
  stringList,
  stringOption,
  urlOption,
} from '../options.js';
import { explainListenError } from '../port-flags.js';
import { UsageError } from '../usage-error.js';

export const registryCommand: Command = {
  name: 'registry',
  summary: 'run the model registry server',
  usage:
    'registry serve [--port 8080] [--host 127.0.0.1] [--data DIR] [--db postgres://...] [--blobs oci://HOST:PORT/NS] [--auth none] [--admin-token-file F] [--webhook-allow CIDR|HOST,...] [--webhook-allow-private] [--deployment-expiry SECONDS]',
  options: {
    port: {
      type: 'string',
      valueName: 'PORT',
      description: 'port to listen on (default 8080; 0 picks a free one)',
    },
    host: { type: 'string', valueName: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'data folder for SQLite and the blob folder (default ./.ferry)',
    },
    db: {
      type: 'string',
      valueName: 'URL',
      description: 'postgres://... to keep metadata in PostgreSQL instead of SQLite',
    },
    blobs: {
      type: 'string',
      valueName: 'URI',
      description: 'oci://HOST:PORT/NAMESPACE to keep blobs in an OCI registry',
    },
    auth: {
      type: 'string',
      valueName: 'MODE',
      description: '"none" turns authentication off (local development only)',
    },
    'admin-token-file': {
      type: 'string',
      valueName: 'FILE',
      description:
        'write the first-start admin token here (or use the token already in it); default DATA/admin-token',
    },
    'webhook-allow': {
      type: 'string',
      valueName: 'LIST',
      description:
        'non-public webhook targets allowed anyway: CIDRs, addresses or host names, comma-separated (default none)',
    },
    'webhook-allow-private': {
      type: 'boolean',
      description: 'let webhooks reach loopback, private and link-local addresses (closed networks only)',
    },
    'deployment-expiry': {
      type: 'string',
      valueName: 'SECONDS',
      description:
        "a serving server's heartbeat counts this long; then its endpoint shows offline (default 30: three of ferry serve's 10 s heartbeats)",
    },
  },
  async run(args, io) {
    if (args.positionals[0] !== 'serve' || args.positionals.length !== 1)
      throw new UsageError('registry takes one subcommand: serve');
    const v = args.values;
    const port = portOption(v, 'port') ?? 8080;
    const host = stringOption(v, 'host') ?? '127.0.0.1';
    const auth = enumOption(v, 'auth', ['none', 'tokens']) ?? 'tokens';
    const data = pathOption(v, 'data') ?? '.ferry';
    const db = urlOption(v, 'db', POSTGRES_PROTOCOLS);
    // --blobs is checked by the registry (FERRY_REGISTRY_BAD_REQUEST names the form it takes)
    const blobs = stringOption(v, 'blobs');
    const tokenFile = pathOption(v, 'admin-token-file');
    const deploymentExpiryMs = seconds(v, 'deployment-expiry');
    // The first-start token goes to a file before anything shows it: a start that then fails to
    // listen has already created the admin, and a restart would otherwise have no token anywhere.
    const adminTokenFile = tokenFile ?? join(data, 'admin-token');
    if (tokenFile === undefined) await mkdir(data, { recursive: true });
    const server = await startRegistry({
      port,
      host,
      data,
      ...(db && { db }),
      ...(blobs && { blobs }),
      auth,
      adminTokenFile,
      ...(deploymentExpiryMs !== undefined && { deploymentExpiryMs }),
      webhookTargets: {
        allowPrivate: args.values['webhook-allow-private'] === true,
        allow: stringList(v, 'webhook-allow', { split: ',' }) ?? [],
      },
      log: (line) => io.stderr.write(`${line}\n`),
    }).catch((error: unknown) => {
      throw explainListenError(error, host, [{ flag: 'port', port }]);
    });
    // listened for before the address is printed: a supervisor may signal as soon as it reads it
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    const described = {
      url: server.url,
      metadata: db ? db.replace(/\/\/[^@/]*@/, '//***@') : `sqlite ${data}/registry.db`,
      blobs: blobs ?? `folder ${data}/blobs`,
      auth,
    };
    if (args.values.json) printJson(io, described);
    else
      io.stdout.write(
        `ferry registry listening on ${described.url} (metadata: ${described.metadata}; blobs: ${described.blobs}; auth: ${described.auth})\n`,
      );
    if (auth === 'none')
      io.stderr.write(
        'ferry registry: WARNING: --auth none: every caller is an admin; use only for local development\n',
      );
    await stopped;
    await server.close();
    return 0;
  },
};
