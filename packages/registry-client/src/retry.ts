/** Retries of one chunk or download after a network error, resuming where it stopped. */
export const MAX_RETRIES = 5;

/** Backoff between tries. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
