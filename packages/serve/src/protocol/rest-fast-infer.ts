import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServedVersion } from '../repository/served-version.js';
import type { ServerContext } from './context.js';
import type { InflightBudget } from './inflight-budget.js';
import { answerRestInfer } from './rest-infer-answer.js';
import { requestId } from './request-id.js';
import { logRequestLine, restErrorAnswer } from './rest-error-answer.js';
import { inferBodyLimit } from './rest-body-guard.js';
import { joinedBody } from './rest-infer.js';

/** POST /v2/models/NAME[/versions/N]/infer with no query string or escapes: what the fast path takes. */
const INFER_PATH = /^\/v2\/models\/([\w.-]+)(?:\/versions\/(\d+))?\/infer$/;

/**
 * The inference route answered straight from node:http, in front of fastify: for an infer request
 * whose model is served and whose Content-Length fits its model's limit and the in-flight budget,
 * the body is read, run and answered here, with the same parsing, checks, batching, metrics,
 * answers, X-Request-Id and request log line as the fastify route (both call answerRestInfer).
 * Fastify's routing, hooks, per-request child logger and reply pipeline cost ~15% of the event
 * loop's CPU per request on the mid benchmark MLP (BENCHMARKS.md, serve-pinned profile), as much
 * as all of ferry's parsing; everything else (other routes, chunked or oversized bodies, unknown
 * models, a draining server, escaped names) goes to fastify as before, which refuses exactly as it
 * always did. Returns a handler that answers true when it took the request.
 */
export function restFastInfer(
  context: ServerContext,
  bodies: { budget: InflightBudget; maxVariableDim: number },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limitOf = inferBodyLimit(bodies.maxVariableDim);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const path = INFER_PATH.exec(req.url ?? '');
    if (!path) return false;
    const declared = req.headers['content-length'];
    if (declared === undefined || req.headers['transfer-encoding'] !== undefined || context.draining())
      return false;
    const length = Number(declared);
    if (!Number.isSafeInteger(length)) return false;
    let served: ServedVersion;
    try {
      served = context.repository.resolve(path[1]!, path[2]);
    } catch {
      return false; // fastify answers the 404 / 503 (and closes the connection, as it always did)
    }
    const headerLength = req.headers['inference-header-content-length'];
    const header = typeof headerLength === 'string' ? headerLength : undefined;
    if (length > limitOf(served, header !== undefined) || !bodies.budget.reserve(length)) return false;
    // released when the response is done or the connection dies: the body lives until then
    res.once('close', () => bodies.budget.release(length));
    const started = performance.now();
    const id = requestId(req);
    const chunks: Buffer[] = [];
    req.on('error', () => undefined); // a client gone mid-body: 'close' above releases its bytes
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // Node's parser delivers exactly Content-Length bytes
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      answerRestInfer(context, served, body, header, res).then(
        (answer) => {
          const head: Record<string, string | number> = {
            'content-type':
              answer.headerLength === undefined ? 'application/json' : 'application/octet-stream',
            'x-request-id': id,
            'content-length': answer.byteLength,
          };
          if (answer.headerLength !== undefined)
            head['inference-header-content-length'] = answer.headerLength;
          finish(req, res, id, started, 200, head, joinedBody(answer));
        },
        (error: unknown) => fail(req, res, id, started, error),
      );
    });
    return true;
  };

  function fail(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    started: number,
    error: unknown,
  ): void {
    const { status, body } = restErrorAnswer(context, id, error);
    finish(
      req,
      res,
      id,
      started,
      status,
      {
        'content-type': 'application/json; charset=utf-8',
        'x-request-id': id,
        'content-length': body.byteLength,
      },
      body,
    );
  }

  function finish(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    started: number,
    status: number,
    head: Record<string, string | number>,
    body: Buffer,
  ): void {
    if (res.destroyed) return; // the client went away: nothing to answer
    res.writeHead(status, head);
    res.end(body);
    logRequestLine(context, id, req.method, req.url, status, started);
  }
}
