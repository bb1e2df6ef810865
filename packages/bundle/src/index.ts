/**
 * @ferry/bundle: ferry.yaml, reproducible pack, Ed25519 DSSE signatures in the OpenSSF
 * model-signing shape, safe unpack, containerize. Public API only.
 */

export { openBundle } from './archive/read-bundle.js';
export { containerizeBundle } from './containerize/containerize.js';
export { DEFAULT_FERRY_IMAGE, FERRY_IMAGE_BUILD } from './containerize/runtime-image.js';
export { BUNDLE_ERRORS, bundleError, isBundleError } from './errors.js';

export { packBundle } from './pack/pack.js';

export { generateKeyFiles } from './sign/keys.js';
export { signBundle } from './sign/sign.js';

export { verifyBundle } from './sign/verify.js';
// the tar header writer: the CLI's tests build hostile archives (path escapes) with it
export { BLOCK, encodeHeader, padding } from './tar/header.js';
export { readTarIndex } from './tar/reader.js';
export { unpackBundle } from './unpack/unpack.js';

export { pullBundle } from './oci/pull.js';
export { pushBundle } from './oci/push.js';
export { type PreparedBundle, prepareBundleServe } from './serve/prepare.js';
