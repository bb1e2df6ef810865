import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '@ferry/serve';
import type { OptionSpec, ParsedArgs } from './command.js';
import { UsageError } from './usage-error.js';

const seconds = (ms: number) => `${ms / 1000}`;
const d = DEFAULT_SERVER_LIMITS;

/** `ferry serve`'s flags for the server's limits (docs/serving.md "Limits"); each has a default. */
export const SERVE_LIMIT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'headers-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `time to receive a request's headers, then 408 and close (default ${seconds(d.headersTimeoutMs)})`,
  },
  'request-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `time to receive a whole request, body included (not its execution); gRPC: the request message (default ${seconds(d.requestTimeoutMs)})`,
  },
  'keep-alive-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `an idle HTTP keep-alive connection is closed after this (default ${seconds(d.keepAliveTimeoutMs)})`,
  },
  'drain-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `on SIGTERM, running requests may finish for this long before connections are cut (default ${seconds(d.drainTimeoutMs)})`,
  },
  'max-connections': {
    type: 'string',
    valueName: 'N',
    description: `most open connections per port; more are dropped (default ${d.maxConnections})`,
  },
  'max-inflight-bytes': {
    type: 'string',
    valueName: 'BYTES',
    description: `request body bytes all requests may hold at once, e.g. 512MiB; over it: 503 (default ${d.maxInflightBytes / 2 ** 20}MiB)`,
  },
  'max-variable-dim': {
    type: 'string',
    valueName: 'N',
    description: `bound for a variable input dimension when deriving a model's body limit (default ${d.maxVariableDim})`,
  },
};

const UNITS: Readonly<Record<string, number>> = { '': 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** The limits the flags set (the rest stay at their defaults). */
export function serveLimits(args: ParsedArgs): Partial<ServerLimits> {
  const value = (flag: string) => args.values[flag] as string | undefined;
  const limits: { -readonly [K in keyof ServerLimits]?: number } = {};
  const time = (flag: string, key: keyof ServerLimits) => {
    const given = value(flag);
    if (given === undefined) return;
    const n = /^\d+(\.\d+)?$/.test(given) ? Number(given) : Number.NaN;
    if (!(n > 0) || n > 86_400)
      throw new UsageError(`--${flag} must be a number of seconds, > 0 and at most 86400 (got ${given})`);
    limits[key] = Math.round(n * 1000);
  };
  const count = (flag: string, key: keyof ServerLimits, max: number) => {
    const given = value(flag);
    if (given === undefined) return;
    const n = /^\d{1,12}$/.test(given) ? Number(given) : Number.NaN;
    if (!(n >= 1 && n <= max)) throw new UsageError(`--${flag} must be an integer 1-${max} (got ${given})`);
    limits[key] = n;
  };
  time('headers-timeout', 'headersTimeoutMs');
  time('request-timeout', 'requestTimeoutMs');
  time('keep-alive-timeout', 'keepAliveTimeoutMs');
  time('drain-timeout', 'drainTimeoutMs');
  count('max-connections', 'maxConnections', 1_000_000);
  count('max-variable-dim', 'maxVariableDim', 2 ** 31 - 1);
  const bytes = value('max-inflight-bytes');
  if (bytes !== undefined) {
    const m = /^(\d{1,15})(KiB|MiB|GiB)?$/.exec(bytes);
    const n = m ? Number(m[1]) * UNITS[m[2] ?? '']! : Number.NaN;
    if (!(n >= 1 && Number.isSafeInteger(n)))
      throw new UsageError(
        `--max-inflight-bytes must be a byte count like 536870912 or 512MiB (got ${bytes})`,
      );
    limits.maxInflightBytes = n;
  }
  return limits;
}
