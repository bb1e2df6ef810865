/**
 * The ONNX schema names the graph transforms are written against, bound once from
 * @ferry/formats' public `onnx` namespace (ARCHITECTURE.md, dependency rule 5).
 */
import { onnx } from '@ferry/formats';

export const { DATA_LOCATION_EXTERNAL, ONNX_DATA_TYPE_NAMES } = onnx.schema;
export type OnnxAttribute = onnx.OnnxAttribute;
export type OnnxGraph = onnx.OnnxGraph;
export type OnnxModel = onnx.OnnxModel;
export type OnnxNode = onnx.OnnxNode;
export type OnnxTensor = onnx.OnnxTensor;
export type OnnxValueInfo = onnx.OnnxValueInfo;
