import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from './harness.helper.js';

/**
 * The pack files of a backend's folder store (absolute paths), to tell which a push added; none
 * for an OCI store (its chunks are blobs) or a folder store with no pack yet.
 */
export async function packFiles(backend: Backend): Promise<string[]> {
  if (backend.serveArgs.blobs !== undefined) return [];
  const dir = join(backend.serveArgs.data, 'blobs', 'packs');
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** A POST /api/v1/chunks body: each chunk after its 36-byte header (32-byte sha256, 4-byte big-endian size). */
export function chunkPack(chunks: readonly Buffer[]): Buffer {
  return Buffer.concat(
    chunks.flatMap((chunk) => {
      const header = Buffer.alloc(36);
      header.write(createHash('sha256').update(chunk).digest('hex'), 0, 'hex');
      header.writeUInt32BE(chunk.length, 32);
      return [header, chunk];
    }),
  );
}
