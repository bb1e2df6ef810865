import type { ServedVersion } from '../repository/served-version.js';
import { Cancellation } from '../scheduler/cancellation.js';
import type { ServerContext } from './context.js';
import { countFailure, infer } from './inference.js';
import { encodeRestResponseParts, parseRestInfer, type RestInferRequest } from './rest-infer.js';
import { parseRestInferCached } from './rest-header-cache.js';
import { isLargeJson, parseLargeJson } from './rest-json.js';

/**
 * What tells answerRestInfer that the client went away: a ServerResponse, or a lean connection
 * (lean-http-transport.ts). 'close' before writableEnded means nobody waits for the answer.
 */
export interface ClientWatch {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  readonly writableEnded: boolean;
}

/** A REST inference answer: its body's parts, and the JSON header's length when binary outputs follow it. */
export type RestInferAnswer = ReturnType<typeof encodeRestResponseParts>;

/**
 * One REST inference request from its body to its answer: parse, check, run through the batcher,
 * encode. Shared by the fastify route and the node:http fast path (rest-fast-infer.ts), so both
 * answer alike. A client that hangs up (`res` closes before it is answered) while its request is
 * queued is dropped from the queue. Throws the ServeError to answer with.
 */
export async function answerRestInfer(
  context: ServerContext,
  served: ServedVersion,
  body: Buffer,
  headerLength: string | undefined,
  res: ClientWatch,
): Promise<RestInferAnswer> {
  let parsed: RestInferRequest;
  try {
    // a small body (every benchmark request) is parsed at once, with no await in between
    if (isLargeJson(body, headerLength))
      parsed = parseRestInfer(body, headerLength, served, await parseLargeJson(body, headerLength));
    else if (headerLength !== undefined) parsed = parseRestInferCached(body, headerLength, served);
    else parsed = parseRestInfer(body, headerLength, served);
  } catch (error) {
    countFailure(context.metrics, served, error);
    throw error;
  }
  const abort = new Cancellation();
  const onClose = () => {
    if (!res.writableEnded) abort.abort();
  };
  res.once('close', onClose);
  try {
    const results = await infer(served, context.metrics, {
      headers: parsed.headers,
      outputs: parsed.outputs,
      decode: parsed.decode,
      ...(parsed.timeoutUs !== undefined && { timeoutUs: parsed.timeoutUs }),
      signal: abort,
    });
    const encodeStart = performance.now();
    const answer = encodeRestResponseParts(served, parsed, results);
    context.metrics.staged(
      served.model,
      served.version,
      'compute_output',
      (performance.now() - encodeStart) / 1000,
    );
    return answer;
  } finally {
    res.off('close', onClose);
  }
}
