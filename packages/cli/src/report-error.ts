import { CLI_ERRORS, type CliErrorCode } from './cli-errors.js';
import { type CliIO, printJson } from './io.js';
import { PortUnavailableError } from './port-flags.js';
import { terminalText } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** The CLI's own codes, printed on stderr as plain sentences (the code is in the --json form only). */
const AS_SENTENCE: ReadonlySet<string> = new Set(Object.keys(CLI_ERRORS));

/** An error as the CLI reports it: a code (a package's, or one of CLI_ERRORS) and one line of message. */
export interface ReportedError {
  readonly code: string;
  readonly message: string;
  /** Where to look next (`see ferry X --help`, `set FERRY_TOKEN`), printed after the message. */
  readonly hint?: string;
  /** Every problem when one error holds several (a ferry.yaml with three mistakes): a line each. */
  readonly problems?: readonly { readonly code: string; readonly message: string }[];
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
  if (isFerryError(error)) {
    const problems = (error as { problems?: unknown }).problems;
    if (Array.isArray(problems) && problems.length > 1 && problems.every(isFerryError))
      return {
        code: error.code,
        message: error.message,
        problems: problems.map((p) => ({ code: p.code, message: p.message })),
      };
    return { code: error.code, message: error.message };
  }
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
 * Prints one error: one line on stderr (`ferry COMMAND: CODE: message (hint)`; usage and port
 * errors without the code, as they read better as plain sentences; a line per problem when it has
 * several), and with --json also `{"error":{"code","message"}}` on stdout (with `problems` when
 * there are several), so a script reading stdout sees every failure.
 */
export function printError(io: CliIO, command: string, error: ReportedError, json: boolean): void {
  const prefix = command ? `ferry ${command}: ` : 'ferry: ';
  const body = AS_SENTENCE.has(error.code) ? error.message : `${error.code}: ${error.message}`;
  if (error.problems)
    for (const problem of error.problems)
      io.stderr.write(`${terminalText(`${prefix}${problem.code}: ${problem.message}`)}\n`);
  else io.stderr.write(`${terminalText(`${prefix}${body}${error.hint ? ` (${error.hint})` : ''}`)}\n`);
  if (json)
    printJson(io, {
      error: {
        code: error.code,
        message: error.message,
        ...(error.problems && { problems: error.problems }),
      },
    });
}
