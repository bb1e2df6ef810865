import { onnx } from '@ferry/formats';

/**
 * Names of the graph inputs and outputs an ONNX model declares without a shape: their rank is
 * unknown (onnx.proto: "shape ... may be omitted", a SavedModel's unknown_rank converts to that),
 * so any rank is valid. onnxruntime-node reports both those and true scalars as shape [], so this
 * reads the model's own value infos to tell them apart.
 */
export function unknownRankTensors(bytes: Uint8Array): { inputs: Set<string>; outputs: Set<string> } {
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  let graph: onnx.OnnxGraph | undefined;
  try {
    graph = onnx.decodeModel(bytes).graph;
  } catch {
    // ORT loaded what this decoder refuses: keep ORT's shapes (a missing shape reads as a scalar)
    return { inputs, outputs };
  }
  const unshaped = (info: onnx.OnnxValueInfo) => {
    const tensor = info.type?.tensor_type;
    return tensor !== undefined && tensor.shape === undefined;
  };
  for (const info of graph?.input ?? []) if (info.name && unshaped(info)) inputs.add(info.name);
  for (const info of graph?.output ?? []) if (info.name && unshaped(info)) outputs.add(info.name);
  return { inputs, outputs };
}
