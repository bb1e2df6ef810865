/**
 * @ferry/torchscript: TorchScript models run by Debian's libtorch through a native addon, and a
 * backend shaped like @ferry/serve's Backend. The addon is optional: where it is not built,
 * everything here still imports, and loading a model throws FERRY_TORCHSCRIPT_UNAVAILABLE.
 */
export { ADDON_PATH, torchscriptAvailable } from './addon.js';
export { type TorchScriptLoadOptions, torchscriptBackend } from './backend.js';
export type {
  Datatype,
  LoadedModel,
  ModelInstance,
  Tensor,
  TensorDeclaration,
  TensorMetadata,
} from './backend-types.js';
export {
  DTYPE_TO_PROTOCOL,
  isTorchScriptDType,
  PROTOCOL_TO_DTYPE,
  type ProtocolDatatype,
  TORCHSCRIPT_DTYPES,
  type TorchScriptDType,
} from './dtype.js';
export {
  isTorchScriptError,
  TORCHSCRIPT_ERRORS,
  TorchScriptError,
  type TorchScriptErrorCode,
  torchscriptError,
} from './errors.js';
export { scanBeforeLoad, type TorchScriptArchive } from './scan.js';
export {
  loadScriptModule,
  MAX_RANK,
  type NamedTorchTensor,
  ScriptModule,
  type TorchTensor,
} from './script-module.js';
export { getIntraOpThreads, setIntraOpThreads, torchVersion } from './threads.js';
export { MAX_MESSAGE_CHARS, torchMessageLine } from './torch-message.js';
