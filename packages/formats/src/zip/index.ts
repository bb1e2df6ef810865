export {
  findEntry,
  type LocalHeader,
  looksLikeZip,
  MAX_INFLATED_MEMBER,
  MAX_ZIP_ENTRIES,
  memberDataOffset,
  openMember,
  openZip,
  readLocalHeader,
  type ZipArchive,
  type ZipEntry,
} from './zip-reader.js';
