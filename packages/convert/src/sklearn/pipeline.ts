import { ferryError, isNode, type PickleValue, classOf, type Estimator, scalarOf } from '../formats.js';
import { convertStep } from './dispatch.js';
import type { Graph } from './graph.js';
import { type Converted, checkWidth } from './result.js';

/** Pipelines inside column transformers inside pipelines: deeper is hostile (CWE-674). */
export const MAX_PIPELINE_DEPTH = 32;

let depth = 0;

function nested<T>(g: Graph, run: () => T): T {
  depth++;
  try {
    if (depth > MAX_PIPELINE_DEPTH)
      throw ferryError('FERRY_LIMIT', {
        path: g.path,
        what: 'pipeline nesting',
        value: depth,
        limit: MAX_PIPELINE_DEPTH,
        reason: 'CWE-674',
      });
    return run();
  } finally {
    depth--;
  }
}

/** Pipeline: every step but the last transforms; the last may be any estimator. */
export function convertPipeline(est: Estimator, g: Graph, input: string, width: number): Converted {
  return nested(g, () => {
    const steps = est.items('steps');
    if (steps.length === 0) est.fail('steps', 'is empty');
    let current: Converted = { kind: 'transformer', out: input, width };
    steps.forEach((s, i) => {
      const pair = est.items('steps', s);
      const step = pair[1] ?? null;
      if (step === 'passthrough' || step === null) return;
      if (current.kind !== 'transformer')
        est.fail('steps', `step ${i} follows a ${current.kind}, which has no output to transform`);
      current = convertStep(est.child('steps', step), g, current.out, current.width);
    });
    return current;
  });
}

/** ColumnTransformer.transformers_ columns: ints, an int array, a slice or a bool mask. */
function columnsOf(est: Estimator, value: PickleValue, width: number): number[] {
  if (typeof value === 'number') return [value];
  if (typeof value === 'string')
    est.unsupported('transformers_', `column name '${value}' (only integer columns)`);
  if (isNode(value) && value.kind === 'call' && classOf(value) === 'builtins.slice') {
    const [a, b, c] = value.args.map((x) => (x === null ? undefined : scalarOf(est.src, x)));
    const out: number[] = [];
    for (let i = a ?? 0; i < Math.min(b ?? width, width); i += c ?? 1) out.push(i);
    return out;
  }
  const items = isNode(value) && (value.kind === 'list' || value.kind === 'tuple') ? value.items : undefined;
  const nums = items
    ? items.map((x) =>
        typeof x === 'string'
          ? est.unsupported('transformers_', `column name '${x}' (only integer columns)`)
          : scalarOf(est.src, x),
      )
    : est.arrayValue('transformers_', value).data;
  if (nums.length === width && nums.every((x) => x === 0 || x === 1) && isNode(value) && !items) {
    // A boolean mask (dtype bool arrays decode as 0/1).
    const mask = nums.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
    return mask;
  }
  return nums.map((x) => {
    if (x === undefined || !Number.isInteger(x))
      return est.fail('transformers_', 'a column that is not an integer');
    const c = x < 0 ? width + x : x;
    if (c < 0 || c >= width)
      return est.fail('transformers_', `column ${x} outside the ${width} input columns`);
    return c;
  });
}

/** ColumnTransformer over numeric columns: each transformer's columns, outputs concatenated in order. */
export function convertColumnTransformer(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  return nested(g, () => {
    if (est.opt('sparse_output_') === true) est.unsupported('sparse_output_', 'sparse output');
    const parts: string[] = [];
    let total = 0;
    for (const t of est.items('transformers_')) {
      const [, trans = null, cols = null] = est.items('transformers_', t);
      if (trans === 'drop') continue;
      const columns = columnsOf(est, cols, width);
      if (columns.length === 0) continue;
      const sub = g.columns(input, columns);
      if (trans === 'passthrough') {
        parts.push(sub);
        total += columns.length;
        continue;
      }
      const out = convertStep(est.child('transformers_', trans), g, sub, columns.length);
      if (out.kind !== 'transformer') est.fail('transformers_', `a ${out.kind} inside a ColumnTransformer`);
      parts.push(out.out);
      total += out.width;
    }
    if (parts.length === 0) est.fail('transformers_', 'every column is dropped');
    return {
      kind: 'transformer',
      out: parts.length === 1 ? parts[0]! : g.one('Concat', parts, { axis: 1 }),
      width: total,
    };
  });
}
