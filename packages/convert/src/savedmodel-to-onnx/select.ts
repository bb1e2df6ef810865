import {
  DT_STRING,
  tfDtypeName,
  tagSetLabel,
  type TfMetaGraph,
  type TfSavedModel,
  type TfSignatureDef,
  type TfTensorInfo,
} from '../formats.js';
import { convertError } from '../errors.js';

/** tf.saved_model.SERVING and DEFAULT_SERVING_SIGNATURE_DEF_KEY (saved_model/tag_constants.py). */
export const DEFAULT_TAG = 'serve';
export const DEFAULT_SIGNATURE = 'serving_default';

/** A tag option is one tag or several joined by commas; the MetaGraph's tag set must equal it. */
export function selectMetaGraph(model: TfSavedModel, tag: string, path: string): TfMetaGraph {
  const wanted = tag
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .sort()
    .join(',');
  const found = model.metaGraphs.find((m) => tagSetLabel(m) === wanted);
  if (!found) {
    throw convertError('FERRY_TF2ONNX_SIGNATURE', {
      path,
      what: `tag set "${wanted}"`,
      reason: `no MetaGraph has it (tag sets: ${model.metaGraphs.map((m) => `"${tagSetLabel(m)}"`).join(', ')})`,
    });
  }
  return found;
}

export function selectSignature(meta: TfMetaGraph, key: string, path: string): TfSignatureDef {
  const found = meta.signatures.find((s) => s.key === key);
  if (!found) {
    const keys = meta.signatures.map((s) => s.key).filter((k) => !k.startsWith('__'));
    throw convertError('FERRY_TF2ONNX_SIGNATURE', {
      path,
      what: `signature "${key}"`,
      reason: `the MetaGraph has no such signature (signatures: ${keys.join(', ') || 'none'})`,
    });
  }
  return found;
}

/** A signature tensor as the converter binds it: the key, the graph tensor (`node:index`) and type. */
export interface BoundTensor {
  readonly key: string;
  readonly tensor: string;
  readonly info: TfTensorInfo;
}

/** `node` and `node:0` name the same tensor; the converter always uses `node:index`. */
export function canonicalTensor(name: string): string {
  return /:\d+$/.test(name) ? name : `${name}:0`;
}

/** The signature's inputs and outputs, sorted by key, dense only; string inputs are refused. */
export function bindSignature(
  sig: TfSignatureDef,
  path: string,
): { inputs: BoundTensor[]; outputs: BoundTensor[] } {
  const bind = (side: 'input' | 'output', record: Readonly<Record<string, TfTensorInfo>>) =>
    Object.keys(record)
      .sort()
      .map((key) => {
        const info = record[key]!;
        if (info.encoding !== 'dense') {
          throw convertError('FERRY_TF2ONNX_SIGNATURE', {
            path,
            what: `signature ${sig.key} ${side} ${key}`,
            reason: `a ${info.encoding} tensor; only dense tensors convert`,
          });
        }
        if (side === 'input' && info.dtype % 100 === DT_STRING) {
          throw convertError('FERRY_TF2ONNX_SIGNATURE', {
            path,
            what: `signature ${sig.key} input ${key} (node ${info.name.replace(/:\d+$/, '')})`,
            reason: `${tfDtypeName(info.dtype)} inputs are not supported (ONNX Runtime models take numbers; TF Serving's classify/regress signatures parse tf.Example strings)`,
          });
        }
        return { key, tensor: canonicalTensor(info.name), info };
      });
  const outputs = bind('output', sig.outputs);
  if (outputs.length === 0) {
    throw convertError('FERRY_TF2ONNX_SIGNATURE', {
      path,
      what: `signature ${sig.key}`,
      reason: 'it has no outputs',
    });
  }
  return { inputs: bind('input', sig.inputs), outputs };
}
