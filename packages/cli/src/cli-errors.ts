import type { ErrorSpec } from '@ferry/formats';

/**
 * The codes of the errors the CLI itself raises (a command line it cannot run, a port it cannot
 * listen on, a bug), so that `--json` gives every error a code (`{"error":{"code","message"}}`).
 * The packages' errors keep their own codes. A plain table, not a defineErrors class: the CLI's
 * start must not load @ferry/formats for `ferry --help` (issue #23); UsageError and
 * PortUnavailableError stay the classes commands throw, and report-error.ts maps them here.
 * `http` is what the code would be over HTTP (the error-codes test wants one for every table).
 */
export const CLI_ERRORS = {
  FERRY_CLI_USAGE: { message: '{reason}', http: 400, permanent: true },
  FERRY_CLI_UNKNOWN_COMMAND: { message: "unknown command '{name}'", http: 400, permanent: true },
  FERRY_CLI_UNKNOWN_OPTION: { message: 'unknown option {option}', http: 400, permanent: true },
  FERRY_CLI_PORT_UNAVAILABLE: { message: '{reason}', http: 503, permanent: false },
  FERRY_CLI_INTERNAL: { message: 'internal error: {reason}', http: 500, permanent: false },
} as const satisfies Record<string, ErrorSpec>;

export type CliErrorCode = keyof typeof CLI_ERRORS;

/** True for a code of this table (the error-codes test's guard for the CLI section). */
export function isCliErrorCode(code: unknown): code is CliErrorCode {
  return typeof code === 'string' && Object.hasOwn(CLI_ERRORS, code);
}
