import { basename, dirname, join } from 'node:path';
import { SAVEDMODEL_TO_ONNX } from '@ferry/convert';
import { savedmodel } from '@ferry/formats';
import { convertingBackend } from './converting.js';

/** tf.saved_model's DEFAULT_SERVING_SIGNATURE_DEF_KEY: served under the model's own name. */
const PRIMARY = 'serving_default';

/** The SavedModel folder: a version folder holding saved_model.pb (TF Serving) or model.savedmodel/ (Triton). */
const folderOf = (path: string) => (basename(path) === 'saved_model.pb' ? dirname(path) : path);

/** The MetaGraph TF Serving loads (tag set {serve}, else one containing serve), as a tag option. */
async function servingTags(dir: string): Promise<{ tag: string; signatures: string[] }> {
  const model = await savedmodel.readSavedModel(join(dir, 'saved_model.pb'));
  const meta = savedmodel.servingMetaGraph(model.metaGraphs);
  if (!meta) return { tag: 'serve', signatures: [] };
  return {
    tag: [...meta.tags].sort().join(','),
    // keys starting with __ are TF's internal functions (__saved_model_init_op), not signatures
    signatures: meta.signatures.map((s) => s.key).filter((k) => !k.startsWith('__')),
  };
}

/**
 * TensorFlow SavedModels, converted to ONNX by @ferry/convert's TypeScript converter (no TensorFlow
 * needed) one signature at a time: serving_default is served as `<model>`, every other signature
 * as `<model>__<signature>`.
 */
export const savedModelBackend = convertingBackend({
  name: 'savedmodel',
  platform: 'tensorflow_savedmodel',
  fileNames: ['model.savedmodel', 'saved_model.pb'],
  converterVersion: 'tf2onnx-ts-1',
  sourceRoot: folderOf,
  async entries(path) {
    const { signatures } = await servingTags(folderOf(path));
    return signatures
      .map((key) => ({ key, primary: key === PRIMARY }))
      .sort((a, b) => Number(b.primary) - Number(a.primary) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  },
  async convert(path, entry) {
    const dir = folderOf(path);
    const { tag } = await servingTags(dir);
    return (await SAVEDMODEL_TO_ONNX.convert(dir, { tag, signature: entry })).bytes;
  },
});
