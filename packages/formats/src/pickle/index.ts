export * as estimator from './estimator/index.js';
export { type ContainerScan, compression, scanContainer, sniffContainer } from './container.js';
export { type Flattened, flattenGraph } from './flatten.js';
export { BufferInput, FileInput, type PickleInput } from './input.js';
export {
  type Anomaly,
  MAX_GRAPH_DEPTH,
  MAX_MEMO_ENTRIES,
  MAX_OBJECTS,
  MAX_STACK_DEPTH,
  type MachineOptions,
  type PickleResult,
  runPickle,
} from './machine.js';
export { openScanned, type Scanned } from './open-scanned.js';
export { OPCODE_BY_NAME, OPCODES, type OpcodeInfo } from './opcodes.js';
export { type GlobalVerdict, judgeGlobal, judgePickles } from './policy.js';
export { readPickleStream, type StreamResult } from './stream.js';
export { dictGet, isNode } from './values.js';
export type * from './values.js';
