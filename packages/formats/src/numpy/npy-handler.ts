import { basename } from 'node:path';
import type { FormatHandler, OpenedModel } from '../model.js';
import { FileSource } from '../tensor/byte-source.js';
import { hasNpyMagic, readNpyHeaderFrom } from './npy-header.js';
import { npyArray } from './npy-tensor.js';
import { withObjectArrayFindings } from './object-array-findings.js';

/** A single .npy array; its tensor is named after the file (`weights.npy` -> `weights`). */
export const npyHandler: FormatHandler = {
  name: 'npy',
  detect: (probe) => !probe.isDirectory && hasNpyMagic(probe.head),
  async open(path) {
    const source = await FileSource.open(path);
    try {
      const header = await readNpyHeaderFrom(source);
      const name = basename(path).replace(/\.npy$/i, '') || 'array';
      const array = npyArray(name, header, source);
      const findings = array.opaque
        ? await withObjectArrayFindings(path, source, array.findings)
        : array.findings;
      const model: OpenedModel = {
        format: 'npy',
        path,
        tensors: array.tensor ? [array.tensor] : [],
        ...(array.opaque && { opaque: [array.opaque] }),
        metadata: {},
        details: {
          version: header.version,
          descr: header.descr.text,
          fortranOrder: header.fortranOrder,
          dataOffset: header.dataOffset,
        },
        ...(findings.length > 0 && { findings }),
        close: () => source.close(),
      };
      return model;
    } catch (error) {
      await source.close();
      throw error;
    }
  },
};
