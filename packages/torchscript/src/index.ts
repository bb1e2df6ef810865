/**
 * @ferry/torchscript: TorchScript models run by Debian's libtorch through a native addon, and a
 * backend implementing @ferry/serving-api's Backend. The addon is optional: where it is not built,
 * everything here still imports, and loading a model throws FERRY_TORCHSCRIPT_UNAVAILABLE.
 */
export { torchscriptAvailable } from './addon.js';
export { torchscriptBackend } from './backend.js';

export { isTorchScriptError, TORCHSCRIPT_ERRORS, torchscriptError } from './errors.js';

export { ScriptModule } from './script-module.js';
export { setIntraOpThreads, torchVersion } from './threads.js';
