import { readFile, stat } from 'node:fs/promises';
import {
  ferryError,
  checkModel,
  encodeModel,
  type OnnxModel,
  type OnnxValueInfo,
  openScanned,
  type PyCall,
  describeEstimator,
  classOf,
  Estimator,
  type GraphSource,
  boosterBytes,
  readXgbModel,
  looksLikeLightgbm,
  readLightgbmFile,
  summariseLightgbm,
} from '../formats.js';
import { convertStep } from './dispatch.js';
import { FLOAT, Graph, INT64, STRING, valueInfo } from './graph.js';
import type { Converted } from './result.js';
import { convertXgbModel } from './xgboost.js';
import { convertLgbmModel, lightgbmWidth } from './lightgbm.js';
import { convertError } from '../errors.js';

/** An XGBoost JSON/UBJSON model is read whole into memory (CWE-789). */
export const MAX_XGBOOST_MODEL_BYTES = 1024 * 1024 * 1024;

export interface SklearnConversion {
  /** The encoded ONNX model. */
  readonly bytes: Uint8Array;
  readonly model: OnnxModel;
  readonly summary: SklearnSummary;
}

export interface SklearnSummary {
  /** `sklearn` (a pickle or joblib estimator), `xgboost` (XGBoost's JSON/UBJSON model) or `lightgbm` (its text model). */
  readonly source: 'sklearn' | 'xgboost' | 'lightgbm';
  /** The top estimator's class, e.g. `sklearn.pipeline.Pipeline`. */
  readonly estimator: string;
  readonly kind: Converted['kind'];
  readonly features: number;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly nodes: number;
  readonly ops: Record<string, number>;
  /** The estimator tree, one line per estimator, indented by depth. */
  readonly tree: string[];
}

/** The input width: n_features_in_, or the first real step's, or the booster's. */
function widthOf(est: Estimator): number {
  if (est.has('n_features_in_')) return est.int('n_features_in_');
  if (est.name === 'Pipeline') {
    for (const s of est.items('steps')) {
      const step = est.items('steps', s)[1] ?? null;
      if (step === null || step === 'passthrough') continue;
      return widthOf(est.child('steps', step));
    }
  }
  if (est.name === 'XGBClassifier' || est.name === 'XGBRegressor')
    return readXgbModel(boosterBytes(est), est.src.path).features;
  if (est.cls.startsWith('lightgbm.')) return lightgbmWidth(est);
  return est.fail('n_features_in_', 'missing, so the input width is unknown');
}

function finish(
  g: Graph,
  out: Converted,
  width: number,
  doc: string,
): { model: OnnxModel; outputs: string[] } {
  const outputs: OnnxValueInfo[] = [];
  const name = (value: string, as: string, type: number, dims: (number | string)[]) => {
    g.op('Identity', [value], {}, '', 1, [as]);
    outputs.push(valueInfo(as, type, dims));
  };
  switch (out.kind) {
    case 'classifier': {
      name(out.label, 'label', out.classes.strings ? STRING : INT64, ['N']);
      const k = (out.classes.ints ?? out.classes.strings ?? []).length;
      if (out.probabilities) name(out.probabilities, 'probabilities', FLOAT, ['N', k]);
      else if (out.scores) name(out.scores, 'scores', FLOAT, ['N', k === 2 ? 1 : k]);
      break;
    }
    case 'cluster':
      name(out.label, 'label', INT64, ['N']);
      name(out.scores, 'scores', FLOAT, ['N', out.clusters]);
      break;
    case 'regressor':
      name(out.out, 'variable', FLOAT, ['N', out.targets]);
      break;
    case 'transformer':
      name(out.out, 'variable', FLOAT, ['N', out.width]);
      break;
  }
  const model = g.model([valueInfo('input', FLOAT, ['N', width])], outputs, doc);
  const problems = checkModel(model);
  if (problems.length > 0)
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
      path: g.path,
      class: doc,
      attribute: '(graph)',
      reason: `${problems[0]!.rule}: ${problems[0]!.message}`,
    });
  return { model, outputs: outputs.map((o) => o.name!) };
}

function summarise(
  model: OnnxModel,
  bytes: Uint8Array,
  summary: Omit<SklearnSummary, 'nodes' | 'ops' | 'inputs'>,
): SklearnConversion {
  const ops: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) ops[n.op_type!] = (ops[n.op_type!] ?? 0) + 1;
  return {
    bytes,
    model,
    summary: { ...summary, inputs: ['input'], nodes: model.graph?.node?.length ?? 0, ops },
  };
}

/** The first bytes: XGBoost's own model files start with `{` (JSON or UBJSON), LightGBM's with `tree`. */
async function headOf(path: string): Promise<Uint8Array> {
  const handle = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
  try {
    const head = new Uint8Array(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Converts a fitted scikit-learn estimator (pickle or joblib), an XGBoost model (JSON/UBJSON) or
 * a LightGBM text model to ONNX-ML, from the inert object graph of ferry's pickle machine: nothing is imported or run.
 * The input is one float tensor `input` [N, features]; classifiers output `label` and
 * `probabilities` (or `scores` without predict_proba), regressors and transformers `variable`,
 * KMeans `label` and `scores` (distances).
 */
export async function convertSklearnToOnnx(path: string): Promise<SklearnConversion> {
  const info = await stat(path).catch(() => {
    throw ferryError('FERRY_NOT_FOUND', { path });
  });
  const head = await headOf(path);
  if (looksLikeLightgbm(head)) {
    const m = await readLightgbmFile(path);
    const g = new Graph(path);
    const out = convertLgbmModel(m, g, 'input', path);
    const objective = m.objective?.text ?? 'custom';
    const { model, outputs } = finish(g, out, m.features, `lightgbm ${objective}`);
    return summarise(model, encodeModel(model), {
      source: 'lightgbm',
      estimator: `lightgbm.Booster (${objective})`,
      kind: out.kind,
      features: m.features,
      outputs,
      tree: [`Booster ${summariseLightgbm(m)}`],
    });
  }
  if (head[0] === 0x7b) {
    if (info.size > MAX_XGBOOST_MODEL_BYTES)
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'XGBoost model size',
        value: info.size,
        limit: MAX_XGBOOST_MODEL_BYTES,
        reason: 'CWE-789',
      });
    const m = readXgbModel(new Uint8Array(await readFile(path)), path);
    const g = new Graph(path);
    const out = convertXgbModel(m, g, 'input', path);
    const { model, outputs } = finish(g, out, m.features, `xgboost ${m.objective}`);
    return summarise(model, encodeModel(model), {
      source: 'xgboost',
      estimator: `xgboost.Booster (${m.objective})`,
      kind: out.kind,
      features: m.features,
      outputs,
      tree: [
        `Booster objective=${m.objective} n_features=${m.features} n_trees=${m.trees}${m.classes > 0 ? ` n_classes=${m.classes}` : ''}`,
      ],
    });
  }
  const { scan, close } = await openScanned(path, false);
  try {
    const stream = scan.streams.find((s) => s.member === '' || s.member.startsWith('('));
    const root = stream?.stream.pickles[0]?.value;
    if (!stream || root === undefined || classOf(root) === undefined)
      throw convertError('FERRY_SKLEARN_NOT_ESTIMATOR', {
        path,
        what: root === undefined ? 'nothing' : 'a value that is not an object',
      });
    const src: GraphSource = {
      path,
      input: stream.input,
      arrays: new Map(stream.arrays.map((a) => [a.wrapper, a])),
    };
    const est = new Estimator(src, root as PyCall);
    const width = widthOf(est);
    const g = new Graph(path);
    const out = convertStep(est, g, 'input', width);
    const { model, outputs } = finish(g, out, width, est.cls);
    return summarise(model, encodeModel(model), {
      source: 'sklearn',
      estimator: est.cls,
      kind: out.kind,
      features: width,
      outputs,
      tree: describeEstimator(est),
    });
  } finally {
    await close();
  }
}
