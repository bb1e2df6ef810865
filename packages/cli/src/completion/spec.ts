import { COMMON_OPTIONS, type Command } from '../command.js';

/** What a completion script offers for one command: its subcommand words and its options. */
export interface CompletionSpec {
  readonly name: string;
  readonly summary: string;
  /** `ls`, `show`, `rm`...: read from the usage line's alternatives (`models ls ... | models show NAME`). */
  readonly subcommands: readonly string[];
  readonly options: readonly {
    readonly long: string;
    readonly short?: string;
    readonly takesValue: boolean;
    readonly description: string;
  }[];
}

/** The spec of a loaded command: the completion scripts are generated from the command table. */
export function completionSpec(summary: string, command: Command): CompletionSpec {
  const subcommands = new Set<string>();
  const alternative = new RegExp(`(?:^|\\|\\s*)${command.name} ([a-z][a-z-]*)(?=\\s|$)`, 'g');
  for (const match of command.usage.matchAll(alternative)) subcommands.add(match[1]!);
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([long, spec]) => ({
    long,
    ...(spec.short && { short: spec.short }),
    takesValue: spec.type === 'string',
    description: spec.description,
  }));
  return { name: command.name, summary, subcommands: [...subcommands], options };
}
