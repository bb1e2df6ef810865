export { graphConstants } from './constants.js';
export { decodeGraphDefBytes, readGraphDef } from './decode.js';
export { looksLikeGraphDef } from './detect.js';
export {
  type GraphTensor,
  graphLikelyOutputs,
  graphPlaceholders,
  graphTensor,
  outputDtype,
  outputShape,
  PLACEHOLDER_OPS,
  splitTensorName,
} from './graph-io.js';
export { graphDefToOpened, tfGraphHandler } from './handler.js';
export { MAX_GRAPHDEF_BYTES } from './limits.js';
