import { type Feed, tensorValues, toOrtFeeds } from './inputs.js';
import { type ort, runSession } from './runtime.js';

export interface OutputComparison {
  readonly name: string;
  readonly elements: number;
  readonly maxAbsError: number;
  /** max |a - b| / max |a|: the error relative to the output's own scale. */
  readonly maxRelError: number;
  readonly meanAbsError: number;
  /** For [batch, classes] outputs: the share of rows whose argmax agrees. */
  readonly top1Agreement?: number;
  readonly rows?: number;
}

export interface VerifyReport {
  readonly samples: number;
  readonly source: 'random' | 'given';
  readonly outputs: OutputComparison[];
}

/** Runs the same feeds through both models and compares every output. */
export async function compareModels(
  original: ort.InferenceSession,
  result: ort.InferenceSession,
  feeds: readonly Feed[],
  paths: { original: string; result: string },
  source: VerifyReport['source'],
): Promise<VerifyReport> {
  const acc = new Map<string, { a: Float64Array[]; b: Float64Array[]; dims: number[][] }>();
  let samples = 0;
  for (const feed of feeds) {
    const first = Object.values(feed)[0];
    samples += feeds.length === 1 ? (first?.dims[0] ?? 1) : 1;
    const outA = await runSession(original, toOrtFeeds(feed, original), paths.original);
    const outB = await runSession(result, toOrtFeeds(feed, result), paths.result);
    for (const name of original.outputNames) {
      const a = outA[name]!;
      const b = outB[name];
      if (!b) continue;
      const entry = acc.get(name) ?? { a: [], b: [], dims: [] };
      entry.a.push(tensorValues(a));
      entry.b.push(tensorValues(b));
      entry.dims.push([...a.dims]);
      acc.set(name, entry);
    }
  }
  const outputs = [...acc].map(([name, { a, b, dims }]) => compareArrays(name, concat(a), concat(b), dims));
  return { samples, source, outputs };
}

export function compareArrays(
  name: string,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dims: readonly (readonly number[])[],
): OutputComparison {
  let maxAbs = 0;
  let scale = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    scale = Math.max(scale, Math.abs(a[i]!));
    sum += d;
  }
  const comparison: OutputComparison = {
    name,
    elements: a.length,
    maxAbsError: maxAbs,
    maxRelError: scale > 0 ? maxAbs / scale : maxAbs,
    meanAbsError: a.length > 0 ? sum / a.length : 0,
  };
  // A classifier's output: rank 2, several classes per row.
  const classes = dims[0]?.length === 2 ? dims[0][1]! : 0;
  if (classes < 2 || !dims.every((d) => d.length === 2 && d[1] === classes)) return comparison;
  let rows = 0;
  let agree = 0;
  for (let at = 0; at + classes <= a.length; at += classes) {
    rows++;
    if (argmax(a, at, classes) === argmax(b, at, classes)) agree++;
  }
  return { ...comparison, top1Agreement: rows > 0 ? agree / rows : 1, rows };
}

function argmax(values: ArrayLike<number>, at: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (values[at + k]! > values[at + best]!) best = k;
  return best;
}

function concat(chunks: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
