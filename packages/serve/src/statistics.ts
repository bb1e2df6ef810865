/**
 * Per model version statistics in the shape of Triton's statistics extension
 * (docs/protocol/extension_statistics.md): counts and cumulative nanoseconds since the server
 * started, for GET /v2/models[/<m>[/versions/<v>]]/stats. Prometheus holds the same numbers as
 * rates; this is the JSON a Triton client (tritonclient's get_inference_statistics) reads.
 */
export interface DurationStat {
  count: number;
  ns: number;
}

export interface InferenceStats {
  readonly success: DurationStat;
  readonly fail: DurationStat;
  readonly queue: DurationStat;
  readonly compute_input: DurationStat;
  readonly compute_infer: DurationStat;
  readonly compute_output: DurationStat;
  readonly cache_hit: DurationStat;
  readonly cache_miss: DurationStat;
}

export interface BatchStat {
  readonly batch_size: number;
  readonly compute_input: DurationStat;
  readonly compute_infer: DurationStat;
  readonly compute_output: DurationStat;
}

export interface ModelStat {
  readonly name: string;
  readonly version: string;
  /** Milliseconds since the epoch of the last successful inference; 0 before the first. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  readonly inference_stats: InferenceStats;
  readonly batch_stats: BatchStat[];
}

const zero = (): DurationStat => ({ count: 0, ns: 0 });
const ns = (seconds: number) => Math.round(seconds * 1e9);

/** Which stage of a request a duration belongs to (Triton's names). */
export type RequestStage = 'success' | 'fail' | 'queue' | 'compute_input' | 'compute_output';

export class ModelStatistics {
  /** By model, then version: looked up several times per request, so no key string is built. */
  private readonly byVersion = new Map<string, Map<string, ModelStat>>();

  private entry(model: string, version: string): ModelStat {
    let versions = this.byVersion.get(model);
    if (!versions) this.byVersion.set(model, (versions = new Map()));
    let stat = versions.get(version);
    if (!stat) {
      stat = {
        name: model,
        version,
        last_inference: 0,
        inference_count: 0,
        execution_count: 0,
        inference_stats: {
          success: zero(),
          fail: zero(),
          queue: zero(),
          compute_input: zero(),
          compute_infer: zero(),
          compute_output: zero(),
          // ferry has no response cache: these stay at zero, as Triton's do with the cache off
          cache_hit: zero(),
          cache_miss: zero(),
        },
        batch_stats: [],
      };
      versions.set(version, stat);
    }
    return stat;
  }

  /** One request spent `seconds` in `stage` (success and fail are the whole request). */
  request(model: string, version: string, stage: RequestStage, seconds: number): void {
    const stat = this.entry(model, version);
    const d = stat.inference_stats[stage];
    d.count++;
    d.ns += ns(seconds);
    if (stage === 'success') stat.last_inference = Date.now();
  }

  /** One model execution of `rows` rows (a batch of `requests` requests) took `seconds`. */
  executed(model: string, version: string, rows: number, requests: number, seconds: number): void {
    const stat = this.entry(model, version);
    stat.inference_count += rows;
    stat.execution_count++;
    // Triton counts compute_infer per request: each request of the batch waited the whole execution
    stat.inference_stats.compute_infer.count += requests;
    stat.inference_stats.compute_infer.ns += ns(seconds) * requests;
    let batch = stat.batch_stats.find((b) => b.batch_size === rows);
    if (!batch) {
      batch = { batch_size: rows, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      stat.batch_stats.push(batch);
      stat.batch_stats.sort((a, b) => a.batch_size - b.batch_size);
    }
    batch.compute_infer.count++;
    batch.compute_infer.ns += ns(seconds);
  }

  /** A version that is loaded shows up with zeros before its first request (as in Triton). */
  ensure(model: string, version: string): void {
    this.entry(model, version);
  }

  /** The statistics of the given versions, in the order given. */
  of(versions: readonly { model: string; version: string }[]): ModelStat[] {
    return versions.map((v) => structuredClone(this.entry(v.model, v.version)));
  }

  /** Drops an unloaded version (Triton reports only versions that are available). */
  forget(model: string, version: string): void {
    const versions = this.byVersion.get(model);
    versions?.delete(version);
    if (versions?.size === 0) this.byVersion.delete(model);
  }
}
