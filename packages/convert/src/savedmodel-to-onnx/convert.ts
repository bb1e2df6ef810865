import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ferryError,
  encodeModel,
  MAX_ONNX_MODEL_BYTES,
  type OnnxModel,
  type OnnxValueInfo,
  readSavedModel,
  SAVED_MODEL_PB,
  VARIABLES_PREFIX,
  openTensorBundle,
  type TensorBundle,
  type TfGraphDef,
  type TfMetaGraph,
  type TfSignatureDef,
} from '../formats.js';
import { OnnxBuilder } from './builder.js';
import { OpContext, type Val } from './context.js';
import { baseDtype, onnxDtypeOf } from './dtypes.js';
import { foldConstant, packedElements } from './fold.js';
import { type FrozenValue, readVariables, VARIABLE_OPS, variableKeys } from './freeze.js';
import { type FlatNode, inlineGraph } from './inline.js';
import { CONVERTERS, uncoveredReason } from './ops/index.js';
import { pruneGraph } from './prune.js';
import {
  type BoundTensor,
  bindSignature,
  DEFAULT_SIGNATURE,
  DEFAULT_TAG,
  selectMetaGraph,
  selectSignature,
} from './select.js';
import { cancelTransposes } from './transpose-cancel.js';
import { convertError } from '../errors.js';

/** ONNX opset the converter emits (ai.onnx): 13 moved Squeeze/Unsqueeze/ReduceSum axes to inputs, 14 gave Add/Sub/Mul/Div 8- and 16-bit integers. */
export const ONNX_OPSET = 14;
/** IR version 7 goes with opset 14 (onnx/helper.py VERSION_TABLE, onnx 1.9). */
export const ONNX_IR_VERSION = 7;

export interface ConvertOptions {
  /** MetaGraph tag set, comma-separated (default `serve`). */
  readonly tag?: string;
  /** Signature key (default `serving_default`). */
  readonly signature?: string;
}

/** A graph pruned to one signature, before its variables are read. */
export interface PreparedGraph {
  readonly path: string;
  readonly signature: TfSignatureDef;
  readonly inputs: readonly BoundTensor[];
  readonly outputs: readonly BoundTensor[];
  readonly resolve: (tensor: string) => string;
  readonly order: readonly FlatNode[];
}

/** Inlines calls and prunes to what the signature's outputs need. */
export function prepareGraph(graph: TfGraphDef, signature: TfSignatureDef, path: string): PreparedGraph {
  const { inputs, outputs } = bindSignature(signature, path);
  const flat = inlineGraph(
    graph,
    path,
    outputs.map((o) => o.tensor),
  );
  const inputTensors = new Set(inputs.map((i) => i.tensor));
  const order = pruneGraph(
    flat,
    outputs.map((o) => o.tensor),
    inputTensors,
    path,
  );
  return { path, signature, inputs, outputs, resolve: (t) => flat.resolve(t), order };
}

/** The variable nodes the pruned graph reads. */
export function variablesNeeded(prepared: PreparedGraph): { node: string; fn: string }[] {
  return prepared.order.filter((n) => VARIABLE_OPS.has(n.op)).map((n) => ({ node: n.name, fn: n.fn }));
}

function valueInfo(name: string, tfDtype: number, dims: readonly number[] | null): OnnxValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: onnxDtypeOf(tfDtype),
        ...(dims && {
          shape: {
            dim: dims.map((d, i) => (d >= 0 ? { dim_value: BigInt(d) } : { dim_param: `${name}_${i}` })),
          },
        }),
      },
    },
  };
}

/** Converts the prepared graph, with its variables' values, to an ONNX model. */
export function emitOnnx(prepared: PreparedGraph, variables: ReadonlyMap<string, FrozenValue>): OnnxModel {
  const { path } = prepared;
  const b = new OnnxBuilder();
  const vals = new Map<string, Val>();
  const graphInputs: OnnxValueInfo[] = [];
  for (const input of prepared.inputs) {
    const shape = input.info.shape && !input.info.shape.unknownRank ? input.info.shape.dims : null;
    if (onnxDtypeOf(input.info.dtype) === undefined) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: `signature ${prepared.signature.key} input ${input.key}`,
        reason: `TensorFlow dtype ${input.info.dtype} has no ONNX type`,
      });
    }
    vals.set(input.tensor, {
      name: input.key,
      dtype: baseDtype(input.info.dtype),
      rank: shape ? shape.length : null,
    });
    graphInputs.push(valueInfo(input.key, input.info.dtype, shape));
  }
  const frozen = new Map<string, Val>();
  for (const [node, value] of variables) {
    const name = b.initializer(node, value.dtype, value.dims, value.bytes, `${node}:0`);
    frozen.set(node, { name, dtype: value.dtype, rank: value.dims.length, konst: value });
  }
  for (const node of prepared.order) {
    const converter = CONVERTERS.get(node.op);
    if (!converter) {
      throw convertError('FERRY_TF2ONNX_UNSUPPORTED_OP', {
        path,
        op: node.op,
        node: node.name,
        fn: node.fn,
        reason: uncoveredReason(node.op),
      });
    }
    const inputs = node.inputs.map((t) => {
      const v = vals.get(prepared.resolve(t));
      if (!v) {
        throw convertError('FERRY_TF2ONNX_NODE', {
          path,
          node: node.name,
          op: node.op,
          fn: node.fn,
          reason: `input ${prepared.resolve(t)} has no value (an output index the producer does not have)`,
        });
      }
      return v;
    });
    const outs = converter(new OpContext(b, node, inputs, path, frozen));
    const first = outs[0];
    if (first && !first.konst) {
      const konst = foldConstant(node, inputs, first.dtype);
      const elements = konst ? null : packedElements(node, inputs);
      if (konst) outs[0] = { ...first, konst };
      else if (elements) outs[0] = { ...first, elements };
    }
    outs.forEach((v, i) => {
      vals.set(`${node.name}:${i}`, v);
    });
  }
  const graphOutputs: OnnxValueInfo[] = [];
  const inputKeys = new Set(prepared.inputs.map((i) => i.key));
  for (const output of prepared.outputs) {
    if (inputKeys.has(output.key)) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: `signature ${prepared.signature.key} output ${output.key}`,
        reason: 'an input has the same key, and ONNX value names must be unique',
      });
    }
    const v = vals.get(prepared.resolve(output.tensor));
    if (!v || v.resource) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: `signature ${prepared.signature.key} output ${output.key}`,
        reason: v ? 'it is a resource handle, not a value' : `tensor ${output.tensor} has no value`,
      });
    }
    b.add('Identity', [v.name], output.key, {}, [output.key]);
    const shape = output.info.shape && !output.info.shape.unknownRank ? output.info.shape.dims : null;
    graphOutputs.push(valueInfo(output.key, v.dtype, shape));
  }
  const bytes = b.initializers.reduce((sum, t) => sum + (t.raw_data?.length ?? 0), 0);
  if (bytes > MAX_ONNX_MODEL_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'frozen variables and constants',
      value: bytes,
      limit: MAX_ONNX_MODEL_BYTES,
      reason: "protobuf's 2 GB message limit; ONNX external data is not written by this converter yet",
    });
  }
  const nodes = cancelTransposes(b.nodes, new Set(prepared.outputs.map((o) => o.key)), b.initializers);
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  return {
    ir_version: BigInt(ONNX_IR_VERSION),
    producer_name: 'ferry',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: BigInt(ONNX_OPSET) }],
    graph: {
      name: prepared.signature.key,
      node: nodes,
      initializer: b.initializers.filter((t) => used.has(t.name!)),
      input: graphInputs,
      output: graphOutputs,
    },
  };
}

/** Converts one signature of a MetaGraph already read (with its variables bundle, if any). */
export async function convertMetaGraph(
  meta: TfMetaGraph,
  signature: TfSignatureDef,
  bundle: TensorBundle | null,
  path: string,
): Promise<OnnxModel> {
  const prepared = prepareGraph(meta.graph, signature, path);
  const needed = variablesNeeded(prepared);
  const keys =
    needed.length > 0 ? variableKeys(meta, new Set(bundle?.entries.map((e) => e.name) ?? [])) : new Map();
  const values = await readVariables(needed, keys, bundle, path);
  return emitOnnx(prepared, values);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Converts a SavedModel folder's signature to ONNX; returns the decoded model. */
export async function convertSavedModelToOnnxModel(
  dir: string,
  options: ConvertOptions = {},
): Promise<OnnxModel> {
  const model = await readSavedModel(join(dir, SAVED_MODEL_PB));
  const meta = selectMetaGraph(model, options.tag ?? DEFAULT_TAG, dir);
  const signature = selectSignature(meta, options.signature ?? DEFAULT_SIGNATURE, dir);
  const bundle = (await exists(join(dir, `${VARIABLES_PREFIX}.index`)))
    ? await openTensorBundle(join(dir, VARIABLES_PREFIX))
    : null;
  try {
    return await convertMetaGraph(meta, signature, bundle, dir);
  } finally {
    await bundle?.close();
  }
}

/** Converts a SavedModel folder's signature to ONNX; returns the encoded ModelProto bytes. */
export async function convertSavedModelToOnnx(
  dir: string,
  options: ConvertOptions = {},
): Promise<Uint8Array> {
  return encodeModel(await convertSavedModelToOnnxModel(dir, options));
}
