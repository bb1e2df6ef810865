import type { FormatHandler } from '../model.js';
import { describeLightgbm } from './describe.js';
import { looksLikeLightgbm, readLightgbmFile } from './read.js';
import { lightgbmTensors } from './tensors.js';

/**
 * LightGBM's own text model (Booster.save_model, the CLI's model.txt). Numbers and names only:
 * loading it runs nothing, so it has no findings. Its tree arrays are its tensors (tensors.ts), so
 * `ferry diff` compares two models by their numbers; inspect also summarises the trees.
 */
export const lightgbmHandler: FormatHandler = {
  name: 'lightgbm',
  detect: (probe) => !probe.isDirectory && looksLikeLightgbm(probe.head),
  async open(path) {
    const m = await readLightgbmFile(path);
    return {
      format: 'lightgbm',
      path,
      tensors: lightgbmTensors(m, path),
      metadata: {},
      inputs: [{ name: 'input', dtype: 'float32', shape: [-1, m.features] }],
      details: describeLightgbm(m),
      findings: [],
      close: async () => {},
    };
  },
};
