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
