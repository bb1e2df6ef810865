/**
 * The ferry runtime image bundle images start FROM. docker/Dockerfile, at the root of a ferry
 * clone, builds it (Node 20, the ferry CLI on PATH, ONNX Runtime and libtorch, both CPU); a test
 * checks that its documented tag and this one agree.
 */
export const DEFAULT_FERRY_IMAGE = 'ferry:0.1.0';

/** The command that builds DEFAULT_FERRY_IMAGE, run from the root of a ferry clone. */
export const FERRY_IMAGE_BUILD = `docker build -f docker/Dockerfile -t ${DEFAULT_FERRY_IMAGE} .`;
