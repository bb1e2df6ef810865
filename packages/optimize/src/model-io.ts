import { onnx, readTensorBytes } from '@ferry/formats';

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
