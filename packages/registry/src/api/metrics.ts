import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The registry's Prometheus metrics (GET /metrics), one prom-client registry per server so two
 * servers in one process (tests) count apart. HTTP requests by method, route pattern and status
 * (the pattern, `/api/v1/models/:model`, not the URL: one series per route, not per model name),
 * their durations, and prom-client's default process and Node.js metrics under their standard
 * names (process_cpu_user_seconds_total, nodejs_eventloop_lag_seconds, ...), which standard Node.js
 * dashboards query.
 */
export class RegistryMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'ferry_registry_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'ferry_registry_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts every answered request (onResponse) and serves GET /metrics without a token, as scrapers expect. */
  register(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      // unmatched URLs share one label: a scan of random paths must not grow the series
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      this.requests.inc(labels);
      this.durations.observe(labels, reply.elapsedTime / 1000);
      done();
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(this.registry.contentType).send(await this.registry.metrics()),
    );
  }
}
