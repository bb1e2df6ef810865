/**
 * Protobuf refuses messages over 2 GiB, and a GraphDef is one message decoded whole in memory
 * (tf.io.write_graph and graph_util.convert_variables_to_constants hit the same wall).
 */
export const MAX_GRAPHDEF_BYTES = 2 ** 31 - 1;
/**
 * Top-level fields detection walks (headers only, payloads skipped): enough to reach the end of
 * every real frozen graph's node list in a few milliseconds; a bigger graph is judged on its start.
 */
export const MAX_DETECT_FIELDS = 65_536;
/** Nodes detection decodes whole to check their names and ops; the first few tell a GraphDef apart. */
export const MAX_DETECT_NODES = 8;
/** A node larger than this (a big Const) is skipped by detection's full decode, not read into memory. */
export const MAX_DETECT_NODE_BYTES = 1024 * 1024;
