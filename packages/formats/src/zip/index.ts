export { InflateBudget, scanInflateBudget } from './inflate-budget.js';
export { checkInflatedSize, inflateAllowance, inflateRange } from './inflate-member.js';
export {
  INFLATE_CHUNK_BYTES,
  MAX_INFLATE_RATIO,
  MAX_INFLATE_RATIO_GRACE_BYTES,
  MAX_INFLATED_TOTAL,
  MAX_ZIP_ENTRIES,
} from './limits.js';
export { findEndRecord, type ZipLoader, type ZipReading } from './loader-readings.js';
export { openMember } from './open-member.js';
export { archiveFindings, everyEntry, readingDifferences } from './reading-differences.js';
export {
  findEntry,
  type LocalHeader,
  looksLikeZip,
  memberDataOffset,
  openZip,
  readLocalHeader,
  type ZipArchive,
  type ZipEntry,
} from './zip-reader.js';
