import { ferryError, type Estimator } from '../formats.js';
import type { Graph } from './graph.js';
import { type Converted, checkWidth } from './result.js';

/** Output columns of PolynomialFeatures; ONNX nodes grow with them (CWE-770). */
export const MAX_POLYNOMIAL_TERMS = 10_000;

const row = (g: Graph, values: number[]) => g.floats(values, [1, values.length]);

export function convertScaler(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  let out = input;
  switch (est.name) {
    case 'StandardScaler': {
      // (x - mean_) / scale_ (StandardScaler.transform), each part only when fitted with it.
      const mean = est.opt('mean_');
      if (est.opt('with_mean') !== false && mean !== undefined && mean !== null)
        out = g.one('Sub', [out, row(g, est.vector('mean_', width))]);
      const scale = est.opt('scale_');
      if (est.opt('with_std') !== false && scale !== undefined && scale !== null)
        out = g.one('Div', [out, row(g, est.vector('scale_', width))]);
      break;
    }
    case 'MinMaxScaler': {
      out = g.one('Add', [
        g.one('Mul', [out, row(g, est.vector('scale_', width))]),
        row(g, est.vector('min_', width)),
      ]);
      if (est.opt('clip') === true) {
        const range = est.items('feature_range');
        const [lo, hi] = [Number(range[0]), Number(range[1])];
        out = g.one('Clip', [out, g.floats([lo], []), g.floats([hi], [])]);
      }
      break;
    }
    case 'MaxAbsScaler':
      out = g.one('Div', [out, row(g, est.vector('scale_', width))]);
      break;
    case 'RobustScaler': {
      const center = est.opt('center_');
      if (center !== undefined && center !== null && est.opt('with_centering') !== false)
        out = g.one('Sub', [out, row(g, est.vector('center_', width))]);
      const scale = est.opt('scale_');
      if (scale !== undefined && scale !== null && est.opt('with_scaling') !== false)
        out = g.one('Div', [out, row(g, est.vector('scale_', width))]);
      break;
    }
    default:
      est.unsupported('(class)', 'not a scaler');
  }
  return { kind: 'transformer', out: out === input ? g.one('Identity', [input]) : out, width };
}

/** Normalizer: each row divided by its l1, l2 or max norm; a zero norm divides by 1 (sklearn normalize). */
export function convertNormalizer(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const norm = est.str('norm');
  const axes = g.int64s([1]);
  let n: string;
  if (norm === 'l1') n = g.one('ReduceSum', [g.one('Abs', [input]), axes], { keepdims: 1 });
  else if (norm === 'l2') n = g.one('Sqrt', [g.one('ReduceSumSquare', [input], { axes: [1], keepdims: 1 })]);
  else if (norm === 'max') n = g.one('ReduceMax', [g.one('Abs', [input])], { axes: [1], keepdims: 1 });
  else est.unsupported('norm', norm);
  const zero = g.one('Equal', [n, g.floats([0], [])]);
  const safe = g.one('Where', [zero, g.floats([1], []), n]);
  return { kind: 'transformer', out: g.one('Div', [input, safe]), width };
}

/** SimpleImputer: ai.onnx.ml Imputer replacing missing_values with statistics_. */
export function convertImputer(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const stats = est.vector('statistics_', width);
  if (stats.some((s) => Number.isNaN(s)))
    est.unsupported('statistics_', 'a column with no observed value (sklearn drops it from the output)');
  if (est.opt('add_indicator') === true)
    est.unsupported('add_indicator', 'missing indicators are not converted');
  const missing = est.get('missing_values');
  const replaced =
    typeof missing === 'number'
      ? missing
      : missing === null
        ? Number.NaN
        : est.fail('missing_values', 'not a number or NaN');
  const out = g.ml(
    'Imputer',
    [input],
    {
      imputed_value_floats: { floats: stats },
      replaced_value_float: { f: replaced },
    },
    width,
  );
  return { kind: 'transformer', out, width };
}

/** OneHotEncoder over numeric categories: one Equal per column against categories_[j]. */
export function convertOneHot(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const drop = est.opt('drop_idx_');
  if (drop !== undefined && drop !== null)
    est.unsupported('drop_idx_', 'dropped categories are not converted');
  if (est.opt('_infrequent_enabled') === true)
    est.unsupported('_infrequent_enabled', 'infrequent categories are not converted');
  const cats = est.items('categories_');
  if (cats.length !== width) est.fail('categories_', `has ${cats.length} columns, the input ${width}`);
  const parts: string[] = [];
  let total = 0;
  cats.forEach((c, j) => {
    const values = est.arrayValue('categories_', c).data;
    if (values.some((v) => Number.isNaN(v))) est.unsupported('categories_', `column ${j} has a NaN category`);
    const column = g.columns(input, [j]);
    const eq = g.one('Equal', [column, row(g, values)]);
    parts.push(g.one('Cast', [eq], { to: 1 }));
    total += values.length;
  });
  const out = parts.length === 1 ? parts[0]! : g.one('Concat', parts, { axis: 1 });
  return { kind: 'transformer', out, width: total };
}

/** sklearn's PolynomialFeatures._combinations order: bias, then each degree's combinations. */
function combinations(n: number, min: number, max: number, interaction: boolean, bias: boolean): number[][] {
  const out: number[][] = [];
  if (bias) out.push([]);
  const rec = (start: number, left: number, acc: number[]) => {
    if (left === 0) {
      out.push([...acc]);
      return;
    }
    for (let i = start; i < n; i++) {
      acc.push(i);
      rec(interaction ? i + 1 : i, left - 1, acc);
      acc.pop();
      if (out.length > MAX_POLYNOMIAL_TERMS) return;
    }
  };
  for (let d = Math.max(1, min); d <= max; d++) rec(0, d, []);
  return out;
}

export function convertPolynomial(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const degree = est.get('degree');
  const max = est.has('_max_degree')
    ? est.int('_max_degree')
    : typeof degree === 'number'
      ? degree
      : est.fail('degree', 'not an int');
  const min = est.has('_min_degree') ? est.int('_min_degree') : 0;
  const terms = combinations(
    width,
    min,
    max,
    est.opt('interaction_only') === true,
    est.opt('include_bias') !== false,
  );
  if (terms.length > MAX_POLYNOMIAL_TERMS)
    throw ferryError('FERRY_LIMIT', {
      path: g.path,
      what: 'PolynomialFeatures terms',
      value: terms.length,
      limit: MAX_POLYNOMIAL_TERMS,
      reason: 'CWE-770',
    });
  if (est.has('n_output_features_') && est.int('n_output_features_') !== terms.length)
    est.fail('n_output_features_', `is ${est.int('n_output_features_')}, the degree gives ${terms.length}`);
  const parts = terms.map((t) => {
    if (t.length === 0) {
      // A column of ones: Shape [N, F] -> [N, 1] -> ConstantOfShape(1).
      const n = g.one('Slice', [g.one('Shape', [input]), g.int64s([0]), g.int64s([1])]);
      const shape = g.one('Concat', [n, g.int64s([1])], { axis: 0 });
      const ones = g.one('ConstantOfShape', [shape]);
      g.nodes[g.nodes.length - 1]!.attribute = [
        { name: 'value', type: 4, t: { data_type: 1, dims: [1n], float_data: [1] } },
      ];
      return ones;
    }
    return g.one('ReduceProd', [g.columns(input, t)], { axes: [1], keepdims: 1 });
  });
  return { kind: 'transformer', out: g.one('Concat', parts, { axis: 1 }), width: terms.length };
}

/** PCA: (x - mean_) · components_ᵀ, divided by sqrt(explained_variance_) when whitened. */
export function convertPca(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const comps = est.array('components_');
  const k = comps.shape[0] ?? 0;
  if (comps.data.length !== k * width)
    est.fail('components_', `has shape [${comps.shape}], the input ${width} columns`);
  const t: number[] = new Array(width * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < width; j++) t[j * k + i] = comps.data[i * width + j]!;
  let out = input;
  const mean = est.opt('mean_');
  if (mean !== undefined && mean !== null) out = g.one('Sub', [out, row(g, est.vector('mean_', width))]);
  out = g.one('MatMul', [out, g.floats(t, [width, k])]);
  if (est.opt('whiten') === true)
    out = g.one('Div', [out, row(g, est.vector('explained_variance_', k).map(Math.sqrt))]);
  return { kind: 'transformer', out, width: k };
}
