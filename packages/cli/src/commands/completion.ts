import type { Command } from '../command.js';
import { bashCompletion } from '../completion/bash.js';
import { fishCompletion } from '../completion/fish.js';
import { completionSpec } from '../completion/spec.js';
import { zshCompletion } from '../completion/zsh.js';
import { BUILTINS } from '../builtins.js';
import { UsageError } from '../usage-error.js';
import { COMMANDS } from './index.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export const completionCommand: Command = {
  name: 'completion',
  summary: 'print a shell completion script: bash, zsh or fish',
  usage: 'completion bash | completion zsh | completion fish',
  options: {},
  async run(args, io) {
    const [shell, ...rest] = args.positionals;
    if (!shell || rest.length > 0 || !Object.hasOwn(SHELLS, shell))
      throw new UsageError('completion takes one shell: bash, zsh or fish');
    // Every command's options are in its module: generating the script loads them all, once.
    const specs = await Promise.all(COMMANDS.map(async (c) => completionSpec(c.summary, await c.load())));
    io.stdout.write(SHELLS[shell as keyof typeof SHELLS](specs, BUILTINS));
    return 0;
  },
};
