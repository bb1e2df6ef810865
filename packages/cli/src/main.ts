import { parseArgs } from 'node:util';
import { COMMON_OPTIONS, type Command, type CommandEntry, type ParsedArgs } from './command.js';
import { COMMANDS } from './commands/index.js';
import { BUILTINS } from './builtins.js';
import type { CliIO } from './io.js';
import { cliError, describeError, printError, type ReportedError } from './report-error.js';
import { closest } from './suggest.js';
import { terminalIO } from './terminal-text.js';
import { ferryVersion } from './version.js';

export const EXIT = { OK: 0, FOUND: 1, ERROR: 2 } as const;

/**
 * Runs `ferry ARGV...` and returns the exit code; never throws. Only the command named is loaded
 * (commands/index.ts): help and version load none.
 */
export async function main(argv: readonly string[], terminal: CliIO): Promise<number> {
  // Every line printed passes the control-character escaping (terminal-text.ts): names in files are data.
  const io = terminalIO(terminal);
  // `ferry help COMMAND` is `ferry COMMAND --help`
  const [name, ...rest] = argv[0] === 'help' && argv[1] ? [argv[1], '--help'] : argv;
  const json = argv.includes('--json');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(globalHelp());
    return name ? EXIT.OK : EXIT.ERROR;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout.write(json ? `${JSON.stringify({ version: ferryVersion() })}\n` : `ferry ${ferryVersion()}\n`);
    return EXIT.OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    const guess = closest(name, [...COMMANDS.map((c) => c.name), ...BUILTINS]);
    const hint = guess ? `did you mean '${guess}'? see ferry --help` : 'see ferry --help';
    printError(io, '', cliError('FERRY_CLI_UNKNOWN_COMMAND', `unknown command '${name}'`, hint), json);
    return EXIT.ERROR;
  }
  const debug = rest.includes('--debug');
  let parsed: ParsedArgs | undefined;
  let command: Command | undefined;
  try {
    command = await entry.load();
    const options = { ...COMMON_OPTIONS, ...command.options };
    const unknown = unknownOption(rest, options);
    if (unknown) {
      const guess = closest(unknown.replace(/^-+/, '').split('=')[0]!, Object.keys(options));
      const hint = `${guess ? `did you mean --${guess}? ` : ''}see ferry ${name} --help`;
      printError(io, name, cliError('FERRY_CLI_UNKNOWN_OPTION', `unknown option ${unknown}`, hint), json);
      return EXIT.ERROR;
    }
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: stripDescriptions(options),
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(commandHelp(entry, command));
      return EXIT.OK;
    }
    parsed = { positionals, values: values as ParsedArgs['values'] };
    return await command.run(parsed, io);
  } catch (error) {
    let reported: ReportedError = await describeError(name, error);
    if (parsed && command?.options.token) {
      const { tokenHint } = await import('./registry-client.js');
      const hint = await tokenHint(parsed, reported.code);
      if (hint) reported = { ...reported, hint };
    }
    printError(io, name, reported, json);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT.ERROR;
  }
}

/**
 * The first option the command does not take, as typed (`--jsno`, `-x`), or undefined. Checked
 * before parseArgs so the answer is one clean line with a suggestion, not node's paragraph.
 */
function unknownOption(args: readonly string[], options: Command['options']): string | undefined {
  const shorts = new Set(Object.values(options).flatMap((o) => (o.short ? [o.short] : [])));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const key = arg.slice(2).split('=')[0]!;
      const spec = options[key];
      if (!spec) return `--${key}`;
      if (spec.type === 'string' && !arg.includes('=')) i++; // its value may start with '-'
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letters = arg.slice(1);
      for (const [j, letter] of [...letters].entries()) {
        if (!shorts.has(letter)) return `-${letter}`;
        const spec = Object.values(options).find((o) => o.short === letter)!;
        if (spec.type === 'string') {
          if (j === letters.length - 1) i++;
          break;
        }
      }
    }
  }
  return undefined;
}

function stripDescriptions(options: Command['options']) {
  return Object.fromEntries(
    Object.entries(options).map(([key, { description: _d, valueName: _v, ...spec }]) => [key, spec]),
  );
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `ferry: carry a trained model from research to production\n\nUsage: ferry COMMAND [options]\n\nCommands:\n${lines.join('\n')}\n\nferry --version (-V, ferry version) prints the version; ferry COMMAND --help (ferry help COMMAND) a command's options.\nEvery command takes --json, --debug and --help. Exit codes: 0 ok, 1 differences or findings, 2 error.\n`;
}

function commandHelp(entry: CommandEntry, command: Command): string {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const lines = Object.entries(options).map(([key, spec]) => {
    const flag = `--${key}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}${spec.short ? `, -${spec.short}` : ''}`;
    return `  ${flag.padEnd(28)} ${spec.description}`;
  });
  return `Usage: ferry ${command.usage}\n\n${entry.summary}\n\nOptions:\n${lines.join('\n')}\n`;
}
