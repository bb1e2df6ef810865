import { access, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ferryError, isFerryError } from '../errors.js';
import type { Finding, FormatHandler, OpenedModel, Probe } from '../model.js';
import { FileSource } from '../tensor/byte-source.js';
import { decodeSavedModelBytes, looksLikeSavedModel, MAX_SAVED_MODEL_BYTES } from './decode.js';
import { scanMetaGraph } from './findings.js';
import { OBJECT_GRAPH_KEY } from './object-graph.js';
import { opHistogram, servingMetaGraph, signaturesOf, tagSetLabel } from './signatures.js';
import { openTensorBundle, type TensorBundle } from './tensor-bundle.js';
import type { TfSavedModel } from './types.js';

export const SAVED_MODEL_PB = 'saved_model.pb';
export const SAVED_MODEL_PBTXT = 'saved_model.pbtxt';
/** TensorFlow 2.13+ splits SavedModels over 2 GiB into a chunked file (tensorflow/tools/proto_splitter). */
export const SAVED_MODEL_CPB = 'saved_model.cpb';
/** tf.saved_model's variables/variables{.index,.data-*} (saved_model/constants.py). */
export const VARIABLES_PREFIX = join('variables', 'variables');

/** The SavedModel folder for a path: the folder itself, or the folder of a saved_model.pb given directly. */
async function folderOf(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? path : dirname(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
    throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads and decodes saved_model.pb, checking its size before allocating. */
export async function readSavedModel(pbPath: string): Promise<TfSavedModel> {
  return decodeSavedModelBytes(await readPb(pbPath), pbPath);
}

async function readPb(pbPath: string): Promise<Uint8Array> {
  const source = await FileSource.open(pbPath);
  try {
    if (source.size > MAX_SAVED_MODEL_BYTES) {
      throw ferryError('FERRY_LIMIT', {
        path: pbPath,
        what: 'saved_model.pb size',
        value: source.size,
        limit: MAX_SAVED_MODEL_BYTES,
        reason: 'protobuf messages are limited to 2 GiB; larger SavedModels are chunked (.cpb)',
      });
    }
    return await source.read(0, source.size);
  } finally {
    await source.close();
  }
}

async function detect(probe: Probe): Promise<boolean> {
  if (probe.isDirectory) {
    if (probe.entries.includes(SAVED_MODEL_PBTXT) || probe.entries.includes(SAVED_MODEL_CPB)) return true;
    if (!probe.entries.includes(SAVED_MODEL_PB)) return false;
    return decodes(join(probe.path, SAVED_MODEL_PB));
  }
  // A saved_model.pb given directly: the name and a successful decode together, never the name alone.
  if (basename(probe.path) !== SAVED_MODEL_PB) return false;
  return decodes(probe.path);
}

async function decodes(pbPath: string): Promise<boolean> {
  try {
    return looksLikeSavedModel(await readPb(pbPath), pbPath);
  } catch (error) {
    if (isFerryError(error)) return false;
    throw error;
  }
}

async function open(path: string): Promise<OpenedModel> {
  const folder = await folderOf(path);
  const pbPath = join(folder, SAVED_MODEL_PB);
  if (!(await exists(pbPath))) {
    for (const [name, reason] of [
      [
        SAVED_MODEL_PBTXT,
        'ferry reads the binary saved_model.pb; convert the text form with TensorFlow first',
      ],
      [SAVED_MODEL_CPB, 'chunked SavedModels (over 2 GiB, TensorFlow 2.13+) are not read yet'],
    ] as const) {
      if (await exists(join(folder, name))) {
        throw ferryError('FERRY_UNSUPPORTED', {
          path: join(folder, name),
          what: `SavedModel in ${name}`,
          reason,
        });
      }
    }
    throw ferryError('FERRY_NOT_FOUND', { path: pbPath });
  }
  const model = await readSavedModel(pbPath);
  const indexPath = join(folder, `${VARIABLES_PREFIX}.index`);
  const bundle: TensorBundle | null = (await exists(indexPath))
    ? await openTensorBundle(join(folder, VARIABLES_PREFIX))
    : null;
  return savedModelToOpened(folder, model, bundle);
}

export function savedModelToOpened(
  folder: string,
  model: TfSavedModel,
  bundle: TensorBundle | null,
): OpenedModel {
  const serving = servingMetaGraph(model.metaGraphs);
  const signatures = signaturesOf(model.metaGraphs);
  const defaultSig = serving?.signatures.find((s) => s.key === 'serving_default');
  const defaultSpec = defaultSig && signaturesOf([{ ...serving!, signatures: [defaultSig] }])[0];
  const findings: Finding[] = model.metaGraphs.flatMap((m) =>
    scanMetaGraph(m, `meta_graph[${tagSetLabel(m)}]`),
  );
  const metadata: Record<string, string> = {
    saved_model_schema_version: String(model.schemaVersion),
    tag_sets: model.metaGraphs.map(tagSetLabel).join(' '),
  };
  if (serving?.tensorflowVersion) metadata.tensorflow_version = serving.tensorflowVersion;
  if (serving?.tensorflowGitVersion) metadata.tensorflow_git_version = serving.tensorflowGitVersion;
  // TF2 checkpoints keep their own object graph as a string "variable": bookkeeping, not a weight,
  // so it is neither a tensor nor an opaque one (which would stop conversion); details report it.
  const opaque = (bundle?.opaque ?? []).filter((o) => o.name !== OBJECT_GRAPH_KEY);
  const hasObjectGraph = (bundle?.opaque ?? []).some((o) => o.name === OBJECT_GRAPH_KEY);
  return {
    format: 'savedmodel',
    path: folder,
    tensors: bundle?.tensors ?? [],
    ...(opaque.length > 0 && { opaque }),
    metadata,
    ...(defaultSpec && { inputs: defaultSpec.inputs, outputs: defaultSpec.outputs }),
    signatures,
    details: {
      schemaVersion: model.schemaVersion,
      metaGraphs: model.metaGraphs.map((m) => ({
        tags: m.tags,
        tensorflowVersion: m.tensorflowVersion,
        tensorflowGitVersion: m.tensorflowGitVersion,
        graphProducer: m.graph.versions?.producer ?? null,
        nodes: m.graph.nodes.length,
        functions: m.graph.functions.length,
        signatures: m.signatures.map((s) => s.key),
        assets: m.assets.map((a) => a.filename),
        objectGraphNodes: m.objectGraph?.nodes.length ?? 0,
        ops: opHistogram(m),
      })),
      variables: bundle
        ? {
            shards: bundle.header.numShards,
            endianness: bundle.header.endianness,
            bundleVersion: bundle.header.producer,
            entries: bundle.entries.length,
            sliceEntries: bundle.sliceEntries,
            checkpointObjectGraph: hasObjectGraph,
          }
        : null,
    },
    findings,
    close: async () => {
      await bundle?.close();
    },
  };
}

export const savedModelHandler: FormatHandler = {
  name: 'savedmodel',
  detect,
  open: (path) => open(path),
};
