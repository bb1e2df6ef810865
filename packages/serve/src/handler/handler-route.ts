import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serveError } from '../errors.js';
import { MAX_TENSORS_PER_REQUEST } from '../limits.js';
import type { ServerContext } from '../protocol/context.js';
import { infer } from '../protocol/inference.js';
import { encodeRestResponse, parseRestInfer } from '../protocol/rest-infer.js';
import { Cancellation } from '../scheduler/cancellation.js';
import type { HandlerPool } from './handler-pool.js';

/** The route a bundle's handler answers on, for each model it wraps. */
export const HANDLER_ROUTE = '/v2/models/:model/handler';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * POST /v2/models/<model>/handler: domain JSON in, domain JSON out. The body goes to the handler's
 * `preprocess` (in a worker thread), whose `{NAME: {datatype, shape, data}}` tensors become an
 * ordinary inference request of that model (the same checks, batcher and metrics as /infer); the
 * outputs, in the same form, go to `postprocess(outputs, body)`, whose result is the answer.
 * Without preprocess the body is the tensors; without postprocess the answer is.
 * A handler error is a 500 carrying its message.
 */
export function registerHandlerRoutes(
  app: FastifyInstance,
  context: ServerContext,
  handlers: ReadonlyMap<string, HandlerPool>,
): void {
  app.post<{ Params: { model: string } }>(
    HANDLER_ROUTE,
    async (req: FastifyRequest<{ Params: { model: string } }>, reply: FastifyReply) => {
      if (context.draining()) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
      const pool = handlers.get(req.params.model);
      if (!pool)
        throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: `${req.params.model} (with a handler)` });
      const served = context.repository.resolve(req.params.model, undefined);
      const raw = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        throw serveError('FERRY_SERVE_BAD_REQUEST', {
          reason: `the body is not valid JSON: ${(error as Error).message}`,
        });
      }
      const tensors = pool.has('preprocess') ? await pool.call('preprocess', [body]) : body;
      const request = Buffer.from(JSON.stringify({ inputs: toInputs(tensors) }, jsonSafe), 'utf8');
      const parsed = parseRestInfer(request, undefined, served);
      const abort = new Cancellation();
      const onClose = () => {
        if (!reply.raw.writableEnded) abort.abort();
      };
      reply.raw.once('close', onClose);
      let results: Awaited<ReturnType<typeof infer>>;
      try {
        results = await infer(served, context.metrics, {
          headers: parsed.headers,
          outputs: parsed.outputs,
          decode: parsed.decode,
          signal: abort,
        });
      } finally {
        reply.raw.off('close', onClose);
      }
      const encoded = JSON.parse(encodeRestResponse(served, parsed, results).body.toString('utf8')) as {
        outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
      };
      const outputs: Json = {};
      for (const o of encoded.outputs)
        outputs[o.name] = { datatype: o.datatype, shape: o.shape, data: o.data };
      const answer = pool.has('postprocess') ? await pool.call('postprocess', [outputs, body]) : outputs;
      return reply.type('application/json').send(JSON.stringify(answer ?? null));
    },
  );
}

/** `{NAME: {datatype, shape, data}}` from the handler -> the v2 request's `inputs` array. */
function toInputs(tensors: unknown): Json[] {
  if (!isObject(tensors))
    throw serveError('FERRY_SERVE_HANDLER', {
      module: 'preprocess',
      reason: 'must return an object {NAME: {datatype, shape, data}}',
    });
  const names = Object.keys(tensors);
  if (names.length === 0 || names.length > MAX_TENSORS_PER_REQUEST)
    throw serveError('FERRY_SERVE_HANDLER', {
      module: 'preprocess',
      reason: `returned ${names.length} tensors (1 to ${MAX_TENSORS_PER_REQUEST})`,
    });
  return names.map((name) => {
    const t = tensors[name];
    if (!isObject(t))
      throw serveError('FERRY_SERVE_HANDLER', {
        module: 'preprocess',
        reason: `tensor ${name} must be {datatype, shape, data}`,
      });
    const data = ArrayBuffer.isView(t.data) ? Array.from(t.data as unknown as ArrayLike<unknown>) : t.data;
    return { name, datatype: t.datatype, shape: t.shape, data };
  });
}

/** Typed arrays of 64-bit ints arrive as bigint; JSON carries them as numbers (the parser range-checks). */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
