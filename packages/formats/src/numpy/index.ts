export * from './limits.js';
export { describeDescr, type NpyDescr } from './npy-descr.js';
export { npyHandler } from './npy-handler.js';
export { hasNpyMagic, type NpyHeader, readNpyHeader, readNpyHeaderFrom } from './npy-header.js';
export { fortranStrides, type NpyArray, npyArray } from './npy-tensor.js';
export { npzHandler, openNpz } from './npz-handler.js';
export { PyTuple, type PyValue, parsePyLiteral } from './py-literal.js';
