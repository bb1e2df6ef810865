/**
 * @ferry/torchscript: TorchScript models run by Debian's libtorch through a native addon, and a
 * backend implementing @ferry/serving-api's Backend. The addon is optional: where it is not built,
 * everything here still imports, and loading a model throws FERRY_TORCHSCRIPT_UNAVAILABLE.
 */
export { ADDON_PATH, torchscriptAvailable } from './addon.js';
export { torchscriptBackend } from './backend.js';
export { isTorchScriptDType, TORCHSCRIPT_DTYPES, type TorchScriptDType } from './dtype.js';
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
