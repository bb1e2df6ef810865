/** Limits on everything a client controls (CWE-400: uncontrolled resource consumption). */

/** The limits the API's names and body schemas enforce, declared with them in the client package. */
export {
  MAX_CHUNK_BYTES,
  MAX_CHUNKS_PER_REQUEST,
  MAX_FILE_BYTES,
  MAX_FILES_PER_VERSION,
  MAX_ITEMS_PER_REQUEST,
  MAX_LABEL_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_TEXT_LENGTH,
} from '@ferry/registry-client';

/** A model card (README.md): the Hub's cards are rarely over 100 KiB. */
export const MAX_CARD_BYTES = 512 * 1024;
/** JSON request bodies (file lists of MAX_FILES_PER_VERSION entries fit). */
export const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;
/** Page size for listings. */
export const MAX_PAGE_SIZE = 1000;
/** Lineage traversal depth (CWE-674: uncontrolled recursion on a cyclic or huge graph). */
export const MAX_LINEAGE_DEPTH = 32;
/** Failed authentications per client per window before 429 (CWE-307: brute force). */
export const MAX_AUTH_FAILURES = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** Client addresses the failure limiter remembers at once; the least recently failing is dropped (CWE-770). */
export const MAX_AUTH_TRACKED_CLIENTS = 10_000;
/** An upload session idle this long is abandoned: its row and partial bytes are removed (CWE-459). */
export const UPLOAD_IDLE_TTL_MS = 24 * 60 * 60 * 1000;
/** How often every server looks for abandoned uploads (and at start, for those a kill -9 left). */
export const UPLOAD_SWEEP_INTERVAL_MS = 15 * 60 * 1000;
/** A server touches its scratch folder (its heartbeat) and sweeps dead servers' folders this often. */
export const SCRATCH_HEARTBEAT_MS = 5 * 60 * 1000;
/**
 * A scratch folder whose process cannot be looked up (another pid namespace or host) is abandoned
 * once its heartbeat is this old: many missed beats, and room for clock skew between hosts (CWE-459).
 */
export const SCRATCH_STALE_MS = 60 * 60 * 1000;
/** Abandoned uploads removed per sweep, so one sweep stays short; the next one takes the rest. */
export const MAX_UPLOADS_PER_SWEEP = 1000;
/** Open upload sessions per user: each one may hold up to MAX_FILE_BYTES of partial data (CWE-400). */
export const MAX_OPEN_UPLOADS_PER_USER = 256;
