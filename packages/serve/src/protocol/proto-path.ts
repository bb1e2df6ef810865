/*
 * Where the OIP v2 gRPC service definition is, and how it is loaded. Apart from grpc.ts so that
 * clients (the bench, the UI's tests) get them from the package index without loading
 * @grpc/grpc-js (issue #23: the index loads no server code).
 */
import { fileURLToPath } from 'node:url';
import type * as protoLoader from '@grpc/proto-loader';

/** The spec's proto, shipped in the package (proto/NOTICE names its source and license). */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/open_inference_grpc.proto', import.meta.url));

/** 64-bit fields as decimal strings so UINT64/INT64 values and shapes stay exact. */
export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};
