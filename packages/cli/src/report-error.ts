import type { CliErrorCode } from './cli-errors.js';
import { type CliIO, printJson } from './io.js';
import { PortUnavailableError } from './port-flags.js';
import { terminalText } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** An error as the CLI reports it: a code (a package's, or one of CLI_ERRORS) and one line of message. */
export interface ReportedError {
  readonly code: string;
  readonly message: string;
  /** Where to look next (`see ferry X --help`, `set FERRY_TOKEN`), printed after the message. */
  readonly hint?: string;
}

/** An error of the CLI's own table, raised by main itself (unknown command or option). */
export function cliError(code: CliErrorCode, message: string, hint?: string): ReportedError {
  return { code, message, ...(hint && { hint }) };
}

/**
 * The code and message of whatever a command threw. ferry's errors carry their code; anything
 * else is a bug, reported as FERRY_CLI_INTERNAL. @ferry/formats (whose FerryError class makes
 * the check exact) is imported here, on the error path, so that `ferry --help` never loads it.
 */
export async function describeError(command: string, error: unknown): Promise<ReportedError> {
  const seeHelp = `see ferry ${command} --help`;
  if (error instanceof UsageError) return cliError('FERRY_CLI_USAGE', error.message, seeHelp);
  if (error instanceof PortUnavailableError) return cliError('FERRY_CLI_PORT_UNAVAILABLE', error.message);
  const { isFerryError } = await import('@ferry/formats');
  if (isFerryError(error)) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    return cliError('FERRY_CLI_USAGE', (error as Error).message, seeHelp);
  return cliError(
    'FERRY_CLI_INTERNAL',
    `internal error: ${(error as Error).message ?? String(error)}`,
    'rerun with --debug for the stack',
  );
}

/**
 * Prints one error: always one line on stderr (`ferry COMMAND: CODE: message (hint)`; usage and
 * port errors without the code, as they read better as plain sentences), and with --json also
 * `{"error":{"code","message"}}` on stdout, so a script reading stdout sees every failure.
 */
export function printError(io: CliIO, command: string, error: ReportedError, json: boolean): void {
  const plain = [
    'FERRY_CLI_USAGE',
    'FERRY_CLI_UNKNOWN_COMMAND',
    'FERRY_CLI_UNKNOWN_OPTION',
    'FERRY_CLI_PORT_UNAVAILABLE',
    'FERRY_CLI_INTERNAL',
  ];
  const prefix = command ? `ferry ${command}: ` : 'ferry: ';
  const body = plain.includes(error.code) ? error.message : `${error.code}: ${error.message}`;
  io.stderr.write(`${terminalText(`${prefix}${body}${error.hint ? ` (${error.hint})` : ''}`)}\n`);
  if (json) printJson(io, { error: { code: error.code, message: error.message } });
}
