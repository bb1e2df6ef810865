/**
 * Limits the registry's API puts on what a client sends (CWE-400: uncontrolled resource
 * consumption). They live with the client because the names and body schemas, which both sides
 * check, are declared with them; the server's own limits stay in @ferry/registry's limits.ts.
 */

/** A model name part (namespace or name): the Hub's limit is 96; a name is a path segment and a DB key. */
export const MAX_NAME_LENGTH = 96;
/** Aliases and tag keys: short labels, shown in tables. */
export const MAX_LABEL_LENGTH = 64;
/** Tag values, params, descriptions: free text but bounded so one row stays small. */
export const MAX_TEXT_LENGTH = 4096;
/** A file path inside a version: POSIX PATH_MAX. */
export const MAX_PATH_LENGTH = 4096;
/** Files per version: a sharded 1T-parameter checkpoint has a few thousand shards. */
export const MAX_FILES_PER_VERSION = 10_000;
/** One file: 1 TiB, above any single checkpoint shard in the wild. */
export const MAX_FILE_BYTES = 2 ** 40;
/** Tags, params or metrics in one request. */
export const MAX_ITEMS_PER_REQUEST = 1000;
/**
 * One chunk (issue #20): above the chunker's largest (4 MiB tensor pieces, 128 KiB content-defined
 * chunks), so a server buffers at most this per chunk it receives.
 */
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
/**
 * Chunks named in one "which do you lack" query or one file manifest: 400 GiB of tensor pieces,
 * or 6 GiB of 64 KiB content-defined chunks, in about 7 MB of JSON (under the server's body
 * limit). A file with more chunks goes up whole, and the server chunks it (no such limit there).
 */
export const MAX_CHUNKS_PER_REQUEST = 100_000;
