import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SchedulerObserver } from './scheduler/policy.js';
import { ModelStatistics } from './statistics.js';

/**
 * Prometheus metrics, one registry per server (so tests and several servers in one process do
 * not share counters). Names follow Triton's nv_inference_* split: requests (success/failure
 * by reason), inferences (rows) and executions, so rows/executions is the average batch size.
 */
/** What the hot path counts for one version, given to prom-client when /metrics is read. */
interface LiveCounts {
  readonly labels: { readonly model: string; readonly version: string };
  pending: number;
  success: number;
  successReported: number;
}

export class ServeMetrics {
  readonly registry = new Registry();
  /**
   * By model, then version. prom-client hashes a label set (sorting and joining its keys) on every
   * inc/set: a third of the metrics' allocations per request on the mid MLP. The two called per
   * request and per queue change are kept as plain numbers here and handed over at collection.
   */
  private readonly live = new Map<string, Map<string, LiveCounts>>();
  /** The same events as Triton's statistics extension JSON (GET /v2/models/stats). */
  readonly stats = new ModelStatistics();
  private readonly success: Counter = new Counter({
    name: 'ferry_request_success_total',
    help: 'Inference requests answered successfully',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      for (const versions of this.live.values())
        for (const counts of versions.values()) this.reportSuccess(counts);
    },
  });
  private readonly failure = new Counter({
    name: 'ferry_request_failure_total',
    help: 'Inference requests that failed, by reason (an error code)',
    labelNames: ['model', 'version', 'reason'],
    registers: [this.registry],
  });
  private readonly inferences = new Counter({
    name: 'ferry_inference_count_total',
    help: 'Inferences performed (batch rows, so a request of batch 8 counts 8)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  private readonly executions = new Counter({
    name: 'ferry_inference_exec_count_total',
    help: 'Model executions (a dynamic batch of many requests counts once)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  private readonly batchedRequests = new Counter({
    name: 'ferry_inference_request_count_total',
    help: 'Requests that reached an execution',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  private readonly queueSeconds = new Histogram({
    name: 'ferry_queue_duration_seconds',
    help: 'Time a request waited in the queue before its execution started',
    labelNames: ['model', 'version'],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly computeSeconds = new Histogram({
    name: 'ferry_compute_duration_seconds',
    help: 'Time one model execution took (a whole batch)',
    labelNames: ['model', 'version'],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly pending: Gauge = new Gauge({
    name: 'ferry_pending_requests',
    help: 'Requests waiting in the queue',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      for (const versions of this.live.values())
        for (const counts of versions.values()) this.pending.set(counts.labels, counts.pending);
    },
  });
  private readonly loadSeconds = new Gauge({
    name: 'ferry_model_load_duration_seconds',
    help: 'How long loading and warming up the model version took',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  private readonly loadFailures = new Counter({
    name: 'ferry_model_load_failure_total',
    help: 'Loads (or reloads) of a model that failed; the versions already serving kept serving',
    labelNames: ['model'],
    registers: [this.registry],
  });

  constructor() {
    // No prefix: prom-client's default names (process_cpu_user_seconds_total,
    // nodejs_eventloop_lag_seconds, ...) are the ones standard Node.js dashboards query (#25).
    collectDefaultMetrics({ register: this.registry });
  }

  /** A request answered; `seconds` is its whole time in the server (for the statistics extension). */
  succeeded(model: string, version: string, seconds = 0): void {
    this.countsOf(model, version).success++;
    this.stats.request(model, version, 'success', seconds);
  }

  failed(model: string, version: string, reason: string, seconds = 0): void {
    this.failure.inc({ model, version, reason });
    this.stats.request(model, version, 'fail', seconds);
  }

  /** Time a request spent turning its data into tensors (input) or its results into a response (output). */
  staged(model: string, version: string, stage: 'compute_input' | 'compute_output', seconds: number): void {
    this.stats.request(model, version, stage, seconds);
  }

  loaded(model: string, version: string, seconds: number): void {
    this.loadSeconds.set({ model, version }, seconds);
    this.stats.ensure(model, version);
  }

  loadFailed(model: string): void {
    this.loadFailures.inc({ model });
  }

  observer(model: string, version: string): SchedulerObserver {
    const labels = { model, version };
    const counts = this.countsOf(model, version);
    return {
      pendingChanged: (n) => {
        counts.pending = n;
      },
      queued: (seconds) => {
        this.queueSeconds.observe(labels, seconds);
        this.stats.request(model, version, 'queue', seconds);
      },
      executed: (rows, requests, seconds) => {
        this.stats.executed(model, version, rows, requests, seconds);
        this.inferences.inc(labels, rows);
        this.executions.inc(labels);
        this.batchedRequests.inc(labels, requests);
        this.computeSeconds.observe(labels, seconds);
      },
    };
  }

  /** Drops a version's series once it is unloaded, so /metrics does not grow forever. */
  forget(model: string, version: string): void {
    const versions = this.live.get(model);
    const counts = versions?.get(version);
    if (counts) this.reportSuccess(counts);
    versions?.delete(version);
    if (versions?.size === 0) this.live.delete(model);
    for (const metric of [this.pending, this.loadSeconds]) metric.remove({ model, version });
    this.stats.forget(model, version);
  }

  private countsOf(model: string, version: string): LiveCounts {
    let versions = this.live.get(model);
    if (!versions) this.live.set(model, (versions = new Map()));
    let counts = versions.get(version);
    if (!counts) {
      counts = { labels: { model, version }, pending: 0, success: 0, successReported: 0 };
      versions.set(version, counts);
    }
    return counts;
  }

  private reportSuccess(counts: LiveCounts): void {
    const delta = counts.success - counts.successReported;
    if (delta === 0) return;
    this.success.inc(counts.labels, delta);
    counts.successReported = counts.success;
  }
}
