/** Limits of the folder scan (`ferry scan DIR`, the registry's scan of a version). */

/** Files judged under one folder argument; a whole disk is not a model (CWE-770). */
export const MAX_SCAN_FILES = 100_000;

/** Folder depth the scan walks (links followed inside the root included): stops runaway nesting (CWE-674). */
export const MAX_SCAN_DEPTH = 64;

/**
 * Text files beside the weights (config.json, tokenizer.json, README.md, vocab.txt) are read
 * whole; a bigger one is not text a model needs and stays `unknown` (CWE-770).
 */
export const MAX_SCAN_TEXT_BYTES = 64 * 1024 * 1024;
