/** Every count and size a bundle or ferry.yaml controls, with the reason for its bound. */

/** ferry.yaml is a short config file; a larger one is a mistake or an attack on the parser (CWE-400). */
export const MAX_YAML_BYTES = 1024 * 1024;
/** YAML alias expansion bound: stops "billion laughs" documents (CWE-776). */
export const MAX_YAML_ALIASES = 100;
/** Models in one bundle: a serving unit, not a model zoo (CWE-770). */
export const MAX_MODELS = 64;
/** Files in one bundle, node_modules included; bounds the manifest and the unpack loop (CWE-770). */
export const MAX_FILES = 100_000;
/** Path length inside a bundle: PATH_MAX on Linux (CWE-22 checks run on bounded strings). */
export const MAX_PATH_BYTES = 4096;
/** Path depth inside a bundle (CWE-674: bounded directory creation). */
export const MAX_PATH_DEPTH = 64;
/** Labels on a bundle (Kubernetes allows more, but a bundle's labels travel in every manifest). */
export const MAX_LABELS = 64;
/** Inputs or outputs declared in the schema (CWE-770). */
export const MAX_TENSORS = 256;
/** Dimensions of a declared tensor shape (ONNX and Triton allow far fewer in practice). */
export const MAX_RANK = 32;
/** One pax extended header: key=value records for a long path; anything bigger is hostile (CWE-770). */
export const MAX_PAX_BYTES = 64 * 1024;
/** .ferry/manifest.json is read into memory to check every entry against it (CWE-770). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** A signature file is one small JSON document (CWE-770). */
export const MAX_SIGNATURE_BYTES = 64 * 1024 * 1024;
/** A handler module is parsed (never run) at pack time to check its exports (CWE-400). */
export const MAX_HANDLER_BYTES = 16 * 1024 * 1024;
