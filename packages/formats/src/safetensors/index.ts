export {
  checkHeaderLength,
  HEADER_LENGTH_BYTES,
  MAX_HEADER_SIZE,
  parseHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './header.js';
export { MAX_JSON_DEPTH } from './json.js';
export {
  looksLikeSafetensors,
  openSafetensors,
  readSafetensorsHeader,
  type SafetensorsValidation,
  safetensorsHandler,
  safetensorsRefs,
  validateSafetensors,
} from './read.js';
export {
  referenceOrder,
  serializeHeader,
  type WriteOptions,
  type WriteProgress,
  type WriteResult,
  writeSafetensors,
} from './write.js';
