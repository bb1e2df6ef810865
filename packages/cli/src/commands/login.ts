import { RegistryClient } from '@ferry/registry-client';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { REGISTRY_OPTIONS, registryUrl, saveCredential } from '../registry-client.js';
import { stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const loginCommand: Command = {
  name: 'login',
  summary: 'check an API token against the registry and save it for later commands',
  usage: 'login --token TOKEN [--registry URL]   (or the token on stdin)',
  options: { ...REGISTRY_OPTIONS },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('login takes no positional arguments');
    const url = registryUrl(args);
    let token = stringOption(args.values, 'token') ?? process.env.FERRY_TOKEN;
    if (!token && !process.stdin.isTTY) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      token = Buffer.concat(chunks).toString('utf8').trim();
    }
    if (!token) throw new UsageError('login needs --token TOKEN (or the token on stdin)');
    const me = await new RegistryClient({ url, token }).whoami();
    const path = await saveCredential(url, token);
    if (args.values.json) printJson(io, { registry: url, ...me, saved: path });
    else
      io.stdout.write(
        `logged in to ${url} as ${me.user} (${me.scopes.join(', ')}); token saved in ${path}\n`,
      );
    return 0;
  },
};
