/**
 * The port flags the server commands share, and what a port that cannot be listened on prints.
 * One name per port across commands (`up`, `serve`, `registry serve`): the inference server's REST
 * port is `--serve-port` (old name `--http-port` still works), its gRPC port `--grpc-port`, the
 * registry's `--port`. The flags' values are read by portOption (options.ts).
 */

/** A port taken by another program (EADDRINUSE) or not allowed (EACCES): printed as one line, exit 2. */
export class PortUnavailableError extends Error {
  override name = 'PortUnavailableError';
}

/** Which flag sets which port number: the one line names the flag of the port that failed. */
export interface PortFlag {
  readonly flag: string;
  readonly port: number;
}

const LISTEN_CODES = ['EADDRINUSE', 'EACCES'] as const;

/**
 * A listen failure on a busy or forbidden port becomes a PortUnavailableError naming the flag that
 * chose the port; anything else is returned unchanged. Node's listen errors carry `code` and `port`;
 * @grpc/grpc-js only puts them in its message ("No address added ... [listen EADDRINUSE: address
 * already in use 127.0.0.1:8001]"), so the message is read too.
 */
export function explainListenError(error: unknown, host: string, ports: readonly PortFlag[]): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as Error & { code?: unknown; port?: unknown };
  let code = LISTEN_CODES.find((c) => c === e.code);
  let port = typeof e.port === 'number' ? e.port : undefined;
  if (code === undefined) {
    const match = /\b(EADDRINUSE|EACCES)\b[^\]]*?:(\d{1,5})\b/.exec(e.message);
    if (!match) return error;
    code = match[1] as (typeof LISTEN_CODES)[number];
    port = Number(match[2]);
  }
  const named = ports.find((p) => p.port === port) ?? (ports.length === 1 ? ports[0] : undefined);
  const where = `port ${port ?? named?.port ?? '?'} on ${host}`;
  const problem = code === 'EADDRINUSE' ? 'is already in use' : 'is not allowed (ports below 1024 need root)';
  const fix = named
    ? `choose another with --${named.flag} PORT (0 = any free port)`
    : `choose other ports with ${ports.map((p) => `--${p.flag}`).join(', ')}`;
  return new PortUnavailableError(`${where} ${problem}: ${fix}`);
}
