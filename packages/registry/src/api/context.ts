import type { FastifyRequest } from 'fastify';
import type { BlobStore } from '../store/blob-store.js';
import type { RegistryDb } from '../store/registry-db.js';
import type { Principal } from './auth.js';

/** What every route needs: the stores and who is calling. */
export interface ApiContext {
  readonly db: RegistryDb;
  readonly blobs: BlobStore;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export const principalOf = (request: FastifyRequest): Principal => request.principal;
