import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '@ferry/serve';
import type { OptionSpec, ParsedArgs } from './command.js';
import { byteSize, positiveInteger, seconds } from './options.js';

const inSeconds = (ms: number) => `${ms / 1000}`;
const d = DEFAULT_SERVER_LIMITS;

/** `ferry serve`'s flags for the server's limits (docs/serving.md "Limits"); each has a default. */
export const SERVE_LIMIT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'headers-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `time to receive a request's headers, then 408 and close (default ${inSeconds(d.headersTimeoutMs)})`,
  },
  'request-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `time to receive a whole request, body included (not its execution); gRPC: the request message (default ${inSeconds(d.requestTimeoutMs)})`,
  },
  'keep-alive-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `an idle HTTP keep-alive connection is closed after this (default ${inSeconds(d.keepAliveTimeoutMs)})`,
  },
  'drain-timeout': {
    type: 'string',
    valueName: 'SECONDS',
    description: `on SIGTERM, running requests may finish for this long before connections are cut (default ${inSeconds(d.drainTimeoutMs)})`,
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

/** The limits the flags set (the rest stay at their defaults). */
export function serveLimits(args: ParsedArgs): Partial<ServerLimits> {
  const v = args.values;
  const limits: { -readonly [K in keyof ServerLimits]?: number } = {
    headersTimeoutMs: seconds(v, 'headers-timeout'),
    requestTimeoutMs: seconds(v, 'request-timeout'),
    keepAliveTimeoutMs: seconds(v, 'keep-alive-timeout'),
    drainTimeoutMs: seconds(v, 'drain-timeout'),
    maxConnections: positiveInteger(v, 'max-connections', 1_000_000),
    maxVariableDim: positiveInteger(v, 'max-variable-dim', 2 ** 31 - 1),
    maxInflightBytes: byteSize(v, 'max-inflight-bytes'),
  };
  for (const key of Object.keys(limits) as (keyof ServerLimits)[])
    if (limits[key] === undefined) delete limits[key];
  return limits;
}
