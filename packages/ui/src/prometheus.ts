/**
 * Reads an inference server's /metrics (Prometheus text exposition format 0.0.4) and turns two
 * scrapes into the three numbers the deployments page shows: request rate, p99 latency and
 * average batch size. Names are those of @ferry/serve (packages/serve/src/metrics.ts).
 */

/** Samples read from one scrape: a large exposition is cut here rather than freezing the page. */
export const MAX_SAMPLES = 200_000;

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the text format: `name{a="b",...} value [timestamp]`; comments and blank lines skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    if (samples.length >= MAX_SAMPLES) break;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    if (match[2]) {
      const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      for (let m = pair.exec(match[2]); m !== null; m = pair.exec(match[2]))
        labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    const value = parseValue(match[3]!);
    if (value !== undefined) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** One model's (and optionally version's) samples; no model = every model on the server. */
export interface Selector {
  readonly model?: string;
  readonly version?: string;
}

const selected = (s: Sample, sel: Selector) =>
  (sel.model === undefined || s.labels.model === sel.model) &&
  (sel.version === undefined || s.labels.version === sel.version);

function sum(samples: readonly Sample[], name: string, sel: Selector): number {
  return samples.filter((s) => s.name === name && selected(s, sel)).reduce((a, s) => a + s.value, 0);
}

/** Cumulative bucket counts by upper bound, summed over the selected series. */
function buckets(samples: readonly Sample[], name: string, sel: Selector): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !selected(s, sel)) continue;
    const le = parseValue(s.labels.le ?? '');
    if (le === undefined) continue;
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/**
 * The q-quantile of a histogram from cumulative buckets, as Prometheus' histogram_quantile does:
 * linear interpolation inside the bucket; the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Number.POSITIVE_INFINITY) ?? cumulative.get(bounds[bounds.length - 1]!) ?? 0;
  if (bounds.length === 0 || total <= 0) return null;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound)!;
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return previousBound;
      if (count === previousCount) return bound;
      return previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount);
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

export interface Rates {
  /** Requests answered (success + failure) per second between the scrapes. */
  readonly requestsPerSecond: number;
  /** p99 of queue wait + execution (seconds) over the interval; null without requests. */
  readonly p99Seconds: number | null;
  /** Rows per model execution over the interval; null without executions. */
  readonly averageBatch: number | null;
  /**
   * Requests answered per second by each model version (the `version` label): during an alias
   * move both the old and the new version answer, then only the new one.
   */
  readonly byVersion: Readonly<Record<string, number>>;
}

/** Δ of two scrapes `seconds` apart. Counters that went down (a server restart) count from zero. */
export function rates(
  before: readonly Sample[],
  after: readonly Sample[],
  seconds: number,
  sel: Selector = {},
): Rates {
  const delta = (name: string) => {
    const d = sum(after, name, sel) - sum(before, name, sel);
    return d < 0 ? sum(after, name, sel) : d;
  };
  const answered = (selector: Selector) =>
    ['ferry_request_success_total', 'ferry_request_failure_total'].reduce((total, name) => {
      const d = sum(after, name, selector) - sum(before, name, selector);
      return total + (d < 0 ? sum(after, name, selector) : d);
    }, 0);
  const requests = answered(sel);
  const byVersion: Record<string, number> = {};
  const versions = new Set(
    after
      .filter((s) => s.name.startsWith('ferry_request_') && selected(s, sel) && s.labels.version)
      .map((s) => s.labels.version!),
  );
  for (const version of [...versions].sort()) {
    const count = answered({ ...sel, version });
    if (count > 0 && seconds > 0) byVersion[version] = count / seconds;
  }
  const rows = delta('ferry_inference_count_total');
  const executions = delta('ferry_inference_exec_count_total');
  // The server splits a request's time into its queue wait and its (batched) execution; the sum
  // of both p99s is an upper bound of the request's p99 inside the server.
  const p99 = (name: string) => {
    const a = buckets(after, name, sel);
    const b = buckets(before, name, sel);
    const d = new Map<number, number>();
    for (const [le, count] of a) d.set(le, Math.max(0, count - (b.get(le) ?? 0)));
    return histogramQuantile(0.99, d);
  };
  const queue = p99('ferry_queue_duration_seconds');
  const compute = p99('ferry_compute_duration_seconds');
  return {
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    p99Seconds: queue === null && compute === null ? null : (queue ?? 0) + (compute ?? 0),
    averageBatch: executions > 0 ? rows / executions : null,
    byVersion,
  };
}
