import type { Command } from '../command.js';
import { formatTable } from '../format-table.js';
import { printJson } from '../io.js';
import { stringList, stringOption } from '../options.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { UsageError } from '../usage-error.js';

const USAGE = 'tokens takes create USER --scope SCOPE:RESOURCE..., ls, or revoke ID';

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'create, list or revoke API tokens (admin)',
  usage: 'tokens create USER --scope SCOPE:RESOURCE... [--description TEXT] | tokens ls | tokens revoke ID',
  options: {
    scope: {
      type: 'string',
      multiple: true,
      valueName: 'SCOPE:RESOURCE',
      description:
        'create: read|write|admin : * | NAMESPACE/* | NAMESPACE/NAME, e.g. write:team/* (repeatable)',
    },
    description: { type: 'string', valueName: 'TEXT', description: 'create: what the token is for' },
    ...REGISTRY_OPTIONS,
  },
  async run(args, io) {
    const [sub, arg, ...rest] = args.positionals;
    if (rest.length > 0) throw new UsageError(USAGE);
    const client = await registryClient(args);
    if (sub === 'create' && arg) {
      const scopes = stringList(args.values, 'scope') ?? [];
      if (scopes.length === 0) throw new UsageError('tokens create needs at least one --scope');
      const description = stringOption(args.values, 'description');
      const created = await client.createToken(arg, scopes, description);
      if (args.values.json) printJson(io, created);
      // the value is shown once (the registry keeps only its sha256): on stdout alone, for scripts
      else {
        io.stdout.write(`${created.token}\n`);
        io.stderr.write(
          `token ${created.id} for ${arg} (${created.scopes.join(', ')}): shown once, keep it\n`,
        );
      }
      return 0;
    }
    if (sub === 'ls' && !arg) {
      const tokens = await client.listTokens();
      if (args.values.json) printJson(io, { tokens });
      else
        io.stdout.write(
          `${formatTable(
            ['id', 'user', 'scopes', 'created', 'description'],
            tokens.map((t) => [t.id, t.user, t.scopes.join(' '), t.createdAt, t.description || '-']),
          )}\n`,
        );
      return 0;
    }
    if (sub === 'revoke' && arg) {
      await client.revokeToken(arg);
      if (args.values.json) printJson(io, { revoked: arg });
      else io.stdout.write(`revoked token ${arg}\n`);
      return 0;
    }
    throw new UsageError(USAGE);
  },
};
