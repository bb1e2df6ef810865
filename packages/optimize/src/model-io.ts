import { ferryError, onnx, readTensorBytes, writeAll, writeFileAtomic } from '@ferry/formats';
import { openSession } from './runtime.js';

type OnnxModel = onnx.OnnxModel;

/**
 * A model ready for a transform: decoded, with every external initializer read into raw_data
 * (the transforms read weights; the output is written self-contained).
 */
export async function loadForTransform(path: string): Promise<{ model: OnnxModel; bytes: Uint8Array }> {
  const loaded = await onnx.loadOnnx(path);
  const byName = new Map(loaded.tensors.map((t) => [t.name, t]));
  for (const t of loaded.model.graph?.initializer ?? []) {
    if (t.data_location !== onnx.schema.DATA_LOCATION_EXTERNAL) continue;
    const ref = byName.get(t.name ?? '');
    if (!ref) continue;
    t.raw_data = await readTensorBytes(ref);
    delete t.external_data;
    delete t.data_location;
  }
  return { model: loaded.model, bytes: loaded.bytes };
}

/**
 * Checks a transformed model (structure, then onnxruntime loads it) and returns its bytes;
 * nothing is written. `what` names the model in messages ("quantized").
 */
export async function checkResult(model: OnnxModel, path: string, what: string): Promise<Uint8Array> {
  const problem = onnx.checkModel(model)[0];
  if (problem)
    throw ferryError('FERRY_OPTIMIZE_CHECK', { path, what, rule: problem.rule, message: problem.message });
  const bytes = onnx.encodeModel(model);
  if (bytes.byteLength > onnx.MAX_ONNX_MODEL_BYTES)
    throw ferryError('FERRY_LIMIT', {
      path,
      what: `${what} model size`,
      value: bytes.byteLength,
      limit: onnx.MAX_ONNX_MODEL_BYTES,
      reason: "protobuf's 2 GB message limit",
    });
  const session = await openSession(bytes, path, `load the ${what} model`, { level: 'basic' });
  await session.release();
  return bytes;
}

/** Temp file + fsync + rename: a failure leaves no output. */
export async function writeModelBytes(outPath: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(outPath, (file) => writeAll(file, bytes));
}
