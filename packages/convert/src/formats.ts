/**
 * The parts of @ferry/formats the converters build on, under the names the converter files use.
 * Converters read files only through @ferry/formats' public API (ARCHITECTURE.md, dependency
 * rule 5); binding the namespaced names once here keeps each converter's imports short.
 */
import { lightgbm, onnx, pickle, savedmodel, tfgraph } from '@ferry/formats';

export { savedmodel, tfgraph };

export {
  BufferSource,
  diffModels,
  dtypeFromOnnx,
  FerryError,
  FileSource,
  ferryError,
  isFerryError,
  type OpenedModel,
  type OpenOptions,
  openModel,
  readTensorBytes,
  type TensorRef,
  type WriteProgress,
  writeAll,
  writeFileAtomic,
  writeSafetensors,
} from '@ferry/formats';

// --- ONNX ---
export const {
  checkModel,
  decodeModel,
  encodeModel,
  encodeModelChunks,
  loadOnnx,
  MAX_ONNX_MODEL_BYTES,
  ONNX_EXTERNAL_ALIGNMENT,
  onnxHandler,
  onnxTypeName,
  tensorDims,
} = onnx;
export const { DATA_LOCATION_EXTERNAL } = onnx.schema;
export type OnnxAttribute = onnx.OnnxAttribute;
export type OnnxModel = onnx.OnnxModel;
export type OnnxNode = onnx.OnnxNode;
export type OnnxTensor = onnx.OnnxTensor;
export type OnnxValueInfo = onnx.OnnxValueInfo;

// --- pickle and the inert estimator graphs read from it ---
export const { isNode, openScanned } = pickle;
export type PickleValue = pickle.PickleValue;
export type PyCall = pickle.PyCall;
export const {
  boosterBytes,
  classOf,
  describeEstimator,
  Estimator,
  MAX_ARRAY_ELEMENTS,
  MAX_UBJSON_DEPTH,
  parseUbjson,
  readXgbModel,
  scalarOf,
  xgbArray,
  xgbNumber,
  xgbObject,
} = pickle.estimator;
export type Estimator = pickle.estimator.Estimator;
export type GraphSource = pickle.estimator.GraphSource;
export type Json = pickle.estimator.Json;
export type XgbModel = pickle.estimator.XgbModel;

// --- LightGBM (text models, and the Booster text pickles hold) ---
export const {
  CATEGORICAL_MASK,
  DEFAULT_LEFT_MASK,
  looksLikeLightgbm,
  MAX_LIGHTGBM_MODEL_BYTES,
  MISSING_NAN,
  MISSING_NONE,
  MISSING_ZERO,
  readLightgbmFile,
  summariseLightgbm,
} = lightgbm;
export const { readLgbmBooster } = pickle.estimator;
export type LgbmModel = lightgbm.LgbmModel;
export type LgbmTree = lightgbm.LgbmTree;

// --- SavedModel ---
export const {
  decodeSavedModelBytes,
  DT_STRING,
  openTensorBundle,
  opHistogram,
  readSavedModel,
  SAVED_MODEL_PB,
  tagSetLabel,
  tfDtypeName,
  tfTensorToBytes,
  VARIABLES_PREFIX,
  variableCheckpointKeys,
} = savedmodel;
export type TensorBundle = savedmodel.TensorBundle;
export type TfAttrValue = savedmodel.TfAttrValue;
export type TfFunctionDef = savedmodel.TfFunctionDef;
export type TfGraphDef = savedmodel.TfGraphDef;
export type TfMetaGraph = savedmodel.TfMetaGraph;
export type TfNodeDef = savedmodel.TfNodeDef;
export type TfSavedModel = savedmodel.TfSavedModel;
export type TfSignatureDef = savedmodel.TfSignatureDef;
export type TfTensor = savedmodel.TfTensor;
export type TfTensorInfo = savedmodel.TfTensorInfo;
