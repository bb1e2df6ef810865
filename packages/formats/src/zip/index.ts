export {
  findEntry,
  looksLikeZip,
  MAX_INFLATED_MEMBER,
  MAX_ZIP_ENTRIES,
  memberDataOffset,
  openMember,
  openZip,
  type ZipArchive,
  type ZipEntry,
} from './zip-reader.js';
