import type { ParseArgsConfig } from 'node:util';
import type { CliIO } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  valueName?: string;
};

/** One CLI command; each lives in its own file under commands/. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** e.g. `inspect PATH [--json]` */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Exit code: 0 ok, 1 found something (differences, findings), 2 error. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'print machine-readable JSON on stdout' },
  debug: { type: 'boolean', description: 'print stack traces with errors' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/**
 * A row of the command table (commands/index.ts): what `ferry --help` lists and `ferry NAME`
 * finds, without loading the command's module; `load` imports it when the command runs.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}
