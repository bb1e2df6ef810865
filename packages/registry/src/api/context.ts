import type { FastifyRequest } from 'fastify';
import type { BlobStore } from '../store/blob-store.js';
import type { ChunkedBlobStore } from '../store/chunked-blob-store.js';
import type { RegistryDb } from '../store/registry-db.js';
import type { Principal } from './auth.js';

/** What every route needs: the stores and who is calling. */
export interface ApiContext {
  readonly db: RegistryDb;
  /** Files by sha256, whichever way they are stored (chunks + manifest, or whole from before). */
  readonly blobs: BlobStore;
  /** The same store, for the chunked transfer routes and the collector. */
  readonly files: ChunkedBlobStore;
  /** This process's scratch folder (store/process-scratch.ts): version files are laid out in it. */
  readonly scratch: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export const principalOf = (request: FastifyRequest): Principal => request.principal;
