import { parseArgs } from 'node:util';
import { isFerryError } from '@ferry/formats';
import { COMMON_OPTIONS, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import type { CliIO } from './io.js';
import { PortUnavailableError } from './port-flags.js';
import { terminalIO, terminalText } from './terminal-text.js';
import { UsageError } from './usage-error.js';

export const EXIT = { OK: 0, FOUND: 1, ERROR: 2 } as const;

/** Runs `ferry ARGV...` and returns the exit code; never throws. */
export async function main(argv: readonly string[], terminal: CliIO): Promise<number> {
  // Every line printed passes the control-character escaping (terminal-text.ts): names in files are data.
  const io = terminalIO(terminal);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(globalHelp());
    return name ? EXIT.OK : EXIT.ERROR;
  }
  if (name === '--version') {
    io.stdout.write('ferry 0.1.0\n');
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`ferry: unknown command '${name}' (see ferry --help)\n`);
    return EXIT.ERROR;
  }
  const debug = rest.includes('--debug');
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...COMMON_OPTIONS, ...stripDescriptions(command.options) },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    return await command.run(
      { positionals, values: values as Record<string, string | boolean | string[] | undefined> },
      io,
    );
  } catch (error) {
    io.stderr.write(`${terminalText(describeError(name, error))}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT.ERROR;
  }
}

/** One line: the code and the message for ferry's own errors, the usage hint for bad arguments. */
function describeError(command: string, error: unknown): string {
  if (isFerryError(error)) return `ferry ${command}: ${error.code}: ${error.message}`;
  if (error instanceof UsageError) return `ferry ${command}: ${error.message} (see ferry ${command} --help)`;
  if (error instanceof PortUnavailableError) return `ferry ${command}: ${error.message}`;
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    return `ferry ${command}: ${(error as Error).message} (see ferry ${command} --help)`;
  }
  return `ferry ${command}: internal error: ${(error as Error).message ?? String(error)} (rerun with --debug for the stack)`;
}

function stripDescriptions(options: Command['options']) {
  return Object.fromEntries(
    Object.entries(options).map(([key, { description: _d, valueName: _v, ...spec }]) => [key, spec]),
  );
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `ferry: carry a trained model from research to production\n\nUsage: ferry COMMAND [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command takes --json, --debug and --help. Exit codes: 0 ok, 1 differences or findings, 2 error.\n`;
}

function commandHelp(command: Command): string {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const lines = Object.entries(options).map(([key, spec]) => {
    const flag = `--${key}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}${spec.short ? `, -${spec.short}` : ''}`;
    return `  ${flag.padEnd(28)} ${spec.description}`;
  });
  return `Usage: ferry ${command.usage}\n\n${command.summary}\n\nOptions:\n${lines.join('\n')}\n`;
}
