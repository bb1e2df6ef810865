import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type ServeError, serveError } from '../errors.js';
import { BUSY_RETRY_AFTER_S, MAX_BODY_BYTES } from '../limits.js';
import type { ServedVersion } from '../repository/served-version.js';
import { type ModelBodyLimits, modelBodyLimits } from './body-limits.js';
import type { ServerContext } from './context.js';
import type { InflightBudget } from './inflight-budget.js';

const INFER_ROUTES = new Set(['/v2/models/:model/infer', '/v2/models/:model/versions/:version/infer']);

/**
 * The body limit of an infer request to a model version (body-limits.ts), binary or JSON; derived
 * once per loaded version (a reload is a new ServedVersion object).
 */
export function inferBodyLimit(maxVariableDim: number): (served: ServedVersion, binary: boolean) => number {
  const limitsOf = new WeakMap<ServedVersion, ModelBodyLimits>();
  return (served, binary) => {
    let limits = limitsOf.get(served);
    if (!limits) {
      limits = modelBodyLimits(served.inputs, served.maxBatchSize, maxVariableDim);
      limitsOf.set(served, limits);
    }
    return binary ? limits.binary : limits.json;
  };
}

/**
 * Bounds every request body before it is buffered (issue #24 item 8): an infer request's body by
 * its model's limits (body-limits.ts), every body by the server's in-flight byte budget. Runs as
 * a preParsing hook, so a Content-Length over the limit or the budget is refused before one byte
 * of the body is read; a chunked body is counted as it streams and cut when it passes either.
 * Each refusal closes the connection (the client may still be sending).
 */
export function guardRequestBodies(
  app: FastifyInstance,
  context: ServerContext,
  budget: InflightBudget,
  maxVariableDim: number,
): void {
  const limitOf = inferBodyLimit(maxVariableDim);
  app.addHook('preParsing', (req, reply, payload, done) => {
    const declared = req.headers['content-length'];
    if (declared === undefined && req.headers['transfer-encoding'] === undefined) return done(null, payload);
    const refuse = (error: ServeError) => {
      reply.header('connection', 'close');
      if (error.code === 'FERRY_SERVE_BUSY') reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
      done(error);
    };
    let limit = MAX_BODY_BYTES;
    let what = `the body of ${req.method} ${req.routeOptions.url ?? req.url}`;
    if (INFER_ROUTES.has(req.routeOptions.url ?? '')) {
      const params = req.params as { model: string; version?: string };
      let served: ServedVersion;
      try {
        served = context.repository.resolve(params.model, params.version);
      } catch (error) {
        return refuse(error as ServeError);
      }
      const binary = req.headers['inference-header-content-length'] !== undefined;
      limit = limitOf(served, binary);
      what = `the ${binary ? 'binary' : 'JSON'} body of a request to model ${served.model} version ${served.version} (derived from its inputs)`;
    }
    const tooLarge = (value: number) => serveError('FERRY_SERVE_TOO_LARGE', { what, value, limit });
    const busy = (value: number) => serveError('FERRY_SERVE_BUSY', { value, limit: budget.limit });
    const length = declared === undefined ? Number.NaN : Number(declared);
    let reserved = 0;
    // released when the response is done or the connection dies: the body lives until then
    reply.raw.once('close', () => budget.release(reserved));
    if (Number.isSafeInteger(length)) {
      if (length > limit) return refuse(tooLarge(length));
      if (!budget.reserve(length)) return refuse(busy(budget.held + length));
      reserved = length;
      // Node's parser delivers exactly Content-Length bytes: nothing more to count
      return done(null, payload);
    }
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        received += chunk.byteLength;
        if (received > limit) return fail(tooLarge(received), callback);
        if (received > reserved) {
          const more = received - reserved;
          if (!budget.reserve(more)) return fail(busy(budget.held + more), callback);
          reserved += more;
        }
        callback(null, chunk);
      },
    });
    // fastify answers a stream error with connection: close itself
    const fail = (error: ServeError, callback: TransformCallback) => {
      if (error.code === 'FERRY_SERVE_BUSY') reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
      callback(error);
    };
    payload.on('error', (error) => counter.destroy(error));
    done(null, payload.pipe(counter));
  });
}
