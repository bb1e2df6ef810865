import { ferryError } from '../../errors.js';
import { isNode } from '../values.js';
import type { Estimator } from './state.js';
import { type Json, parseUbjson } from './ubjson.js';

/** A parsed XGBoost model (the JSON schema of doc/model.schema, as JSON or UBJSON). */
export interface XgbModel {
  readonly objective: string;
  readonly features: number;
  readonly classes: number;
  readonly trees: number;
  readonly raw: { [key: string]: Json };
}

type Obj = { [key: string]: Json };

/** The value as a JSON object, or a FERRY_XGBOOST_MODEL error naming `what`. */
export function obj(v: Json | undefined, what: string, path: string): Obj {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v))
    throw ferryError('FERRY_XGBOOST_MODEL', { path, what, reason: 'missing or not an object' });
  return v;
}

/** The value as a JSON array, or a FERRY_XGBOOST_MODEL error naming `what`. */
export function arr(v: Json | undefined, what: string, path: string): Json[] {
  if (!Array.isArray(v))
    throw ferryError('FERRY_XGBOOST_MODEL', { path, what, reason: 'missing or not an array' });
  return v;
}

/** The value (or numeric string) as a number, or a FERRY_XGBOOST_MODEL error naming `what`. */
export function num(v: Json | undefined, what: string, path: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n))
    throw ferryError('FERRY_XGBOOST_MODEL', { path, what, reason: `${String(v)} is not a number` });
  return n;
}

/** Reads XGBoost's own model (save_model .json / .ubj), or the Booster buffer pickles hold ({Config, Model}). */
export function readXgbModel(bytes: Uint8Array, path: string): XgbModel {
  let root: Json;
  const first = bytes.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (
    bytes[first] === 0x7b &&
    bytes[first + 1] !== undefined &&
    /["}\s]/.test(String.fromCharCode(bytes[first + 1]!))
  ) {
    try {
      root = JSON.parse(new TextDecoder().decode(bytes)) as Json;
    } catch (error) {
      throw ferryError('FERRY_XGBOOST_MODEL', { path, what: 'JSON', reason: (error as Error).message });
    }
  } else root = parseUbjson(bytes, path);
  let top = obj(root, 'model', path);
  if (top.Model !== undefined) top = obj(top.Model, 'Model', path);
  const learner = obj(top.learner, 'learner', path);
  const params = obj(learner.learner_model_param, 'learner.learner_model_param', path);
  const objective = obj(learner.objective, 'learner.objective', path).name;
  if (typeof objective !== 'string')
    throw ferryError('FERRY_XGBOOST_MODEL', { path, what: 'learner.objective.name', reason: 'not a string' });
  const booster = obj(learner.gradient_booster, 'learner.gradient_booster', path);
  const model =
    booster.name === 'dart'
      ? obj(obj(booster.gbtree, 'gbtree', path).model, 'gbtree.model', path)
      : obj(booster.model, 'gradient_booster.model', path);
  if (booster.name !== 'gbtree' && booster.name !== 'dart')
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
      path,
      class: 'Booster',
      attribute: 'gradient_booster.name',
      reason: `${String(booster.name)} (only gbtree and dart)`,
    });
  return {
    objective,
    features: num(params.num_feature, 'learner_model_param.num_feature', path),
    classes: num(params.num_class, 'learner_model_param.num_class', path),
    trees: arr(model.trees, 'gradient_booster.model.trees', path).length,
    raw: top,
  };
}

/** XGBClassifier/XGBRegressor pickles: `_Booster` is a Booster whose state holds the model buffer. */
export function boosterBytes(est: Estimator): Uint8Array {
  const booster = est.child('_Booster');
  const handle = booster.get('handle');
  let node = handle;
  if (isNode(node) && node.kind === 'call' && node.args.length > 0) node = node.args[0]!;
  if (!isNode(node) || node.kind !== 'bytes') return booster.fail('handle', 'not a bytes buffer');
  return est.src.input.read(node.start, node.length);
}
