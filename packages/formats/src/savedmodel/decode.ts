import { ferryError } from '../errors.js';
import { decodeMessage } from '../protobuf/decode.js';
import type { Message } from '../protobuf/schema.js';
import * as P from './protos.js';
import type {
  TfArgDef,
  TfAttrList,
  TfAttrValue,
  TfFunctionDef,
  TfGraphDef,
  TfMetaGraph,
  TfNameAttrList,
  TfNodeDef,
  TfObjectGraph,
  TfOpDef,
  TfSavedModel,
  TfSavedObject,
  TfShape,
  TfSignatureDef,
  TfTensor,
  TfTensorInfo,
  TfVersions,
} from './types.js';

/**
 * Protobuf refuses messages over 2 GiB, and TensorFlow splits larger SavedModels into a chunked
 * saved_model.cpb instead (tensorflow/tools/proto_splitter); the whole file is decoded in memory.
 */
export const MAX_SAVED_MODEL_BYTES = 2 ** 31 - 1;
/** More dims than this is no real tensor; a hostile shape could make arrays huge (CWE-770). */
export const MAX_TF_RANK = 64;

type Ctx = { readonly path: string };

const str = (m: Message, f: string): string => (typeof m[f] === 'string' ? (m[f] as string) : '');
const num = (m: Message, f: string): number => (typeof m[f] === 'number' ? (m[f] as number) : 0);
const bool = (m: Message, f: string): boolean => m[f] === true;
const msg = (m: Message, f: string): Message | undefined => m[f] as Message | undefined;
const list = <T>(m: Message, f: string): T[] => (Array.isArray(m[f]) ? (m[f] as T[]) : []);
const map = <T>(m: Message, f: string): Record<string, T> => (m[f] ?? {}) as Record<string, T>;

function mapValues<T, U>(record: Record<string, T>, fn: (value: T, key: string) => U): Record<string, U> {
  const out: Record<string, U> = Object.create(null);
  for (const key of Object.keys(record)) out[key] = fn(record[key]!, key);
  return out;
}

export function decodeSavedModelBytes(bytes: Uint8Array, path: string): TfSavedModel {
  if (bytes.length > MAX_SAVED_MODEL_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'saved_model.pb size',
      value: bytes.length,
      limit: MAX_SAVED_MODEL_BYTES,
      reason: 'protobuf messages are limited to 2 GiB; larger SavedModels are chunked (.cpb)',
    });
  }
  const ctx = { path };
  const raw = decodeMessage(P.SavedModel, bytes, ctx);
  const metaGraphs = list<Message>(raw, 'meta_graphs').map((m, i) =>
    toMetaGraph(m, ctx, `meta_graphs[${i}]`),
  );
  if (metaGraphs.length === 0) {
    throw ferryError('FERRY_SAVEDMODEL_STRUCTURE', {
      path,
      what: 'SavedModel.meta_graphs',
      reason: 'the SavedModel holds no MetaGraph (an empty or non-SavedModel protobuf)',
    });
  }
  const version = (raw.saved_model_schema_version as bigint | undefined) ?? 0n;
  if (version < 0n || version > 1_000_000n) {
    throw ferryError('FERRY_SAVEDMODEL_STRUCTURE', {
      path,
      what: 'SavedModel.saved_model_schema_version',
      reason: `${version} is not a schema version`,
    });
  }
  return { schemaVersion: Number(version), metaGraphs };
}

/**
 * Whether bytes have the shape of a SavedModel: the top level and each MetaGraphDef's fields decode
 * with the right wire types, there is at least one MetaGraph, and each has a graph or meta info.
 * The graph itself is not decoded. Throws FerryError when the bytes are not protobuf.
 */
export function looksLikeSavedModel(bytes: Uint8Array, path: string): boolean {
  const top = decodeMessage(P.SavedModelShallow, bytes, { path });
  const metas = list<Uint8Array>(top, 'meta_graphs');
  if (metas.length === 0) return false;
  return metas.every((m) => {
    const meta = decodeMessage(P.MetaGraphDefShallow, m, { path });
    return meta.graph_def !== undefined || meta.meta_info_def !== undefined;
  });
}

export function toShape(m: Message | undefined, ctx: Ctx, where: string): TfShape {
  if (!m) return { dims: [], unknownRank: false };
  const dimsRaw = list<Message>(m, 'dim');
  if (dimsRaw.length > MAX_TF_RANK) {
    throw ferryError('FERRY_LIMIT', {
      path: ctx.path,
      what: `${where} rank`,
      value: dimsRaw.length,
      limit: MAX_TF_RANK,
      reason: 'no TensorFlow kernel handles more dims; shapes are expanded in memory (CWE-770)',
    });
  }
  const dims = dimsRaw.map((d) => {
    const size = (d.size as bigint | undefined) ?? 0n;
    if (size < -1n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw ferryError('FERRY_SAVEDMODEL_STRUCTURE', {
        path: ctx.path,
        what: `${where} dim`,
        reason: `size ${size} is neither -1 (unknown) nor a dimension`,
      });
    }
    return Number(size);
  });
  return { dims, unknownRank: bool(m, 'unknown_rank') };
}

export function toTensor(m: Message, ctx: Ctx, where: string): TfTensor {
  return {
    dtype: num(m, 'dtype'),
    shape: toShape(msg(m, 'tensor_shape'), ctx, where),
    versionNumber: num(m, 'version_number'),
    tensorContent: (m.tensor_content as Uint8Array | undefined) ?? null,
    halfVal: list(m, 'half_val'),
    floatVal: list(m, 'float_val'),
    doubleVal: list(m, 'double_val'),
    intVal: list(m, 'int_val'),
    stringVal: list(m, 'string_val'),
    scomplexVal: list(m, 'scomplex_val'),
    int64Val: list(m, 'int64_val'),
    boolVal: list(m, 'bool_val'),
    dcomplexVal: list(m, 'dcomplex_val'),
    uint32Val: list(m, 'uint32_val'),
    uint64Val: list(m, 'uint64_val'),
    float8Val: (m.float8_val as Uint8Array | undefined) ?? null,
  };
}

function toNameAttrList(m: Message, ctx: Ctx, where: string): TfNameAttrList {
  return { name: str(m, 'name'), attr: toAttrMap(map<Message>(m, 'attr'), ctx, where) };
}

function toAttrList(m: Message, ctx: Ctx, where: string): TfAttrList {
  return {
    s: list(m, 's'),
    i: list(m, 'i'),
    f: list(m, 'f'),
    b: list(m, 'b'),
    type: list(m, 'type'),
    shape: list<Message>(m, 'shape').map((s) => toShape(s, ctx, where)),
    tensor: list<Message>(m, 'tensor').map((t) => toTensor(t, ctx, where)),
    func: list<Message>(m, 'func').map((f) => toNameAttrList(f, ctx, where)),
  };
}

/** A well-formed AttrValue sets one field of its oneof; of several, the last distinct field seen wins. */
export function toAttrValue(m: Message, ctx: Ctx, where: string): TfAttrValue {
  const order = Object.keys(m).filter((k) => k !== '$unknown');
  const kind = order[order.length - 1];
  switch (kind) {
    case 's':
      return { kind, value: m.s as Uint8Array };
    case 'i':
      return { kind, value: m.i as bigint };
    case 'f':
      return { kind, value: m.f as number };
    case 'b':
      return { kind, value: m.b as boolean };
    case 'type':
      return { kind, value: m.type as number };
    case 'shape':
      return { kind, value: toShape(m.shape as Message, ctx, where) };
    case 'tensor':
      return { kind, value: toTensor(m.tensor as Message, ctx, where) };
    case 'list':
      return { kind, value: toAttrList(m.list as Message, ctx, where) };
    case 'func':
      return { kind, value: toNameAttrList(m.func as Message, ctx, where) };
    case 'placeholder':
      return { kind, value: m.placeholder as string };
    default:
      return { kind: 'none' };
  }
}

function toAttrMap(raw: Record<string, Message>, ctx: Ctx, where: string): Record<string, TfAttrValue> {
  return mapValues(raw, (v, k) => toAttrValue(v, ctx, `${where} attr ${k}`));
}

export function toNode(m: Message, ctx: Ctx, where: string): TfNodeDef {
  const name = str(m, 'name');
  return {
    name,
    op: str(m, 'op'),
    inputs: list(m, 'input'),
    device: str(m, 'device'),
    attr: toAttrMap(map<Message>(m, 'attr'), ctx, `${where} node ${name}`),
  };
}

function toArg(m: Message): TfArgDef {
  return {
    name: str(m, 'name'),
    type: num(m, 'type'),
    typeAttr: str(m, 'type_attr'),
    numberAttr: str(m, 'number_attr'),
    typeListAttr: str(m, 'type_list_attr'),
    isRef: bool(m, 'is_ref'),
  };
}

export function toOpDef(m: Message, ctx: Ctx, where: string): TfOpDef {
  const name = str(m, 'name');
  return {
    name,
    inputArgs: list<Message>(m, 'input_arg').map(toArg),
    outputArgs: list<Message>(m, 'output_arg').map(toArg),
    controlOutputs: list(m, 'control_output'),
    attrs: list<Message>(m, 'attr').map((a) => ({
      name: str(a, 'name'),
      type: str(a, 'type'),
      defaultValue: a.default_value
        ? toAttrValue(a.default_value as Message, ctx, `${where} op ${name}`)
        : null,
    })),
    isStateful: bool(m, 'is_stateful'),
  };
}

function toFunction(m: Message, ctx: Ctx): TfFunctionDef {
  const signature = toOpDef(msg(m, 'signature') ?? {}, ctx, 'function');
  const where = `function ${signature.name}`;
  return {
    name: signature.name,
    signature,
    nodes: list<Message>(m, 'node_def').map((n) => toNode(n, ctx, where)),
    ret: { ...map<string>(m, 'ret') },
    controlRet: { ...map<string>(m, 'control_ret') },
    attr: toAttrMap(map<Message>(m, 'attr'), ctx, where),
    argAttr: mapValues(map<Message>(m, 'arg_attr'), (a, k) =>
      toAttrMap(map<Message>(a, 'attr'), ctx, `${where} arg ${k}`),
    ),
  };
}

function toVersions(m: Message | undefined): TfVersions | null {
  if (!m) return null;
  return {
    producer: num(m, 'producer'),
    minConsumer: num(m, 'min_consumer'),
    badConsumers: list(m, 'bad_consumers'),
  };
}

export function toGraph(m: Message | undefined, ctx: Ctx, where: string): TfGraphDef {
  if (!m) return { nodes: [], functions: [], versions: null };
  const library = msg(m, 'library');
  return {
    nodes: list<Message>(m, 'node').map((n) => toNode(n, ctx, where)),
    functions: library ? list<Message>(library, 'function').map((f) => toFunction(f, ctx)) : [],
    versions: toVersions(msg(m, 'versions')),
  };
}

function toTensorInfo(m: Message, ctx: Ctx, where: string): TfTensorInfo {
  const coo = msg(m, 'coo_sparse');
  const composite = msg(m, 'composite_tensor');
  const shapeRaw = msg(m, 'tensor_shape');
  const base = {
    name: str(m, 'name'),
    dtype: num(m, 'dtype'),
    shape: shapeRaw ? toShape(shapeRaw, ctx, where) : null,
  };
  if (coo) {
    return {
      ...base,
      encoding: 'coo_sparse',
      cooSparse: {
        valuesTensorName: str(coo, 'values_tensor_name'),
        indicesTensorName: str(coo, 'indices_tensor_name'),
        denseShapeTensorName: str(coo, 'dense_shape_tensor_name'),
      },
    };
  }
  if (composite) {
    return {
      ...base,
      encoding: 'composite',
      components: list<Message>(composite, 'components').map((c) => toTensorInfo(c, ctx, where)),
    };
  }
  return { ...base, encoding: typeof m.name === 'string' ? 'dense' : 'none' };
}

function toSignature(m: Message, key: string, ctx: Ctx, where: string): TfSignatureDef {
  const w = `${where} signature ${key}`;
  return {
    key,
    methodName: str(m, 'method_name'),
    inputs: mapValues(map<Message>(m, 'inputs'), (t, k) => toTensorInfo(t, ctx, `${w} input ${k}`)),
    outputs: mapValues(map<Message>(m, 'outputs'), (t, k) => toTensorInfo(t, ctx, `${w} output ${k}`)),
  };
}

const OBJECT_KINDS = [
  'user_object',
  'asset',
  'function',
  'variable',
  'bare_concrete_function',
  'constant',
  'resource',
] as const;

function toSavedObject(m: Message, ctx: Ctx, where: string): TfSavedObject {
  const kind = OBJECT_KINDS.filter((k) => m[k] !== undefined).pop() ?? 'other';
  const children = list<Message>(m, 'children').map((c) => ({
    nodeId: num(c, 'node_id'),
    localName: str(c, 'local_name'),
  }));
  const body = (msg(m, kind) ?? {}) as Message;
  switch (kind) {
    case 'user_object':
      return { kind, children, identifier: str(body, 'identifier') };
    case 'variable':
      return {
        kind,
        children,
        variable: {
          dtype: num(body, 'dtype'),
          shape: toShape(msg(body, 'shape'), ctx, where),
          name: str(body, 'name'),
          trainable: bool(body, 'trainable'),
        },
      };
    case 'function':
      return { kind, children, concreteFunctions: list(body, 'concrete_functions') };
    case 'bare_concrete_function':
      return { kind, children, concreteFunctions: [str(body, 'concrete_function_name')] };
    case 'asset':
      return { kind, children, assetFileDefIndex: num(body, 'asset_file_def_index') };
    case 'constant':
      return { kind, children, constantOperation: str(body, 'operation') };
    default:
      return { kind, children };
  }
}

function toObjectGraph(m: Message | undefined, ctx: Ctx, where: string): TfObjectGraph | null {
  if (!m) return null;
  return {
    nodes: list<Message>(m, 'nodes').map((n, i) => toSavedObject(n, ctx, `${where} object ${i}`)),
    concreteFunctions: mapValues(map<Message>(m, 'concrete_functions'), (f) => ({
      boundInputs: list<number>(f, 'bound_inputs'),
    })),
  };
}

function toMetaGraph(m: Message, ctx: Ctx, where: string): TfMetaGraph {
  const info = msg(m, 'meta_info_def') ?? {};
  const ops = msg(info, 'stripped_op_list');
  const saver = msg(m, 'saver_def');
  const signatures = map<Message>(m, 'signature_def');
  return {
    tags: list(info, 'tags'),
    tensorflowVersion: str(info, 'tensorflow_version'),
    tensorflowGitVersion: str(info, 'tensorflow_git_version'),
    metaGraphVersion: str(info, 'meta_graph_version'),
    strippedOpList: ops
      ? list<Message>(ops, 'op').map((o) => toOpDef(o, ctx, `${where} stripped_op_list`))
      : [],
    graph: toGraph(msg(m, 'graph_def'), ctx, where),
    saver: saver
      ? {
          filenameTensorName: str(saver, 'filename_tensor_name'),
          saveTensorName: str(saver, 'save_tensor_name'),
          restoreOpName: str(saver, 'restore_op_name'),
          sharded: bool(saver, 'sharded'),
          version: num(saver, 'version'),
        }
      : null,
    signatures: Object.keys(signatures)
      .sort()
      .map((key) => toSignature(signatures[key]!, key, ctx, where)),
    assets: list<Message>(m, 'asset_file_def').map((a) => ({
      filename: str(a, 'filename'),
      tensorName: str(msg(a, 'tensor_info') ?? {}, 'name'),
    })),
    objectGraph: toObjectGraph(msg(m, 'object_graph_def'), ctx, where),
  };
}
