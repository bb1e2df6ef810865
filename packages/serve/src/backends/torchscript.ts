import { torchscriptBackend as native } from '@ferry/torchscript';
import { serveError } from '../errors.js';
import type { Backend, BackendOptions, LoadedModel } from '@ferry/serving-api';

/**
 * TorchScript archives through the libtorch addon of @ferry/torchscript. TorchScript has no static
 * signature, so inputs and outputs come from config.yaml (a clear error names what is missing).
 */
export const torchscriptBackend: Backend = {
  name: native.name,
  platform: native.platform,
  fileNames: native.fileNames,
  async load(path: string, options: BackendOptions): Promise<LoadedModel> {
    try {
      return await native.load(path, options);
    } catch (error) {
      throw serveError('FERRY_SERVE_LOAD', { path, reason: (error as Error).message }, error);
    }
  },
};
