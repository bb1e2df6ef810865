import { createHash, type Hash } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { sha256File, writeStreamToFile } from '@ferry/formats';
import type { RegistryClient } from './client.js';
import { isRegistryError, RemoteRegistryError, registryError } from './errors.js';
import { MAX_RETRIES, sleep } from './retry.js';

const enc = encodeURIComponent;
const filePath = (path: string) => path.split('/').map(enc).join('/');

/**
 * One file of a version downloaded whole into `partial`: resumed with a Range request after a
 * dropped connection (If-Range on the file's sha256), hashed as it arrives, verified at the end,
 * retried with backoff; the registry's own refusals are not retried. What pull falls back to when
 * a file is not stored in chunks or no chunk cache is used.
 */
export async function downloadWholeFile(
  client: RegistryClient,
  model: string,
  version: number,
  file: { path: string; sha256: string; size: number },
  partial: string,
  force: boolean,
  onBytes: (n: number) => void,
): Promise<void> {
  let failures = 0;
  let hash: Hash | undefined;
  for (;;) {
    hash = undefined;
    const have = (await stat(partial).catch(() => undefined))?.size ?? 0;
    try {
      if (have < file.size) {
        const response = await client.openDownload(
          `/api/v1/models/${enc(model)}/versions/${version}/files/${filePath(file.path)}${force ? '?force=true' : ''}`,
          have > 0 ? { range: `bytes=${have}-`, 'if-range': `"${file.sha256}"` } : {},
        );
        const append = response.statusCode === 206;
        let received = append ? have : 0;
        // A fresh download is hashed as it arrives; a resumed one is hashed from the file after.
        hash = append ? undefined : createHash('sha256');
        const running = hash;
        const counted = async function* (body: AsyncIterable<Uint8Array>) {
          for await (const chunk of body) {
            received += chunk.length;
            running?.update(chunk);
            onBytes(received);
            yield chunk;
          }
        };
        const out = await open(partial, append ? 'r+' : 'w');
        try {
          await writeStreamToFile(out, counted(response), append ? have : 0);
        } finally {
          await out.close();
        }
      }
      const actual = hash ? hash.digest('hex') : await sha256File(partial);
      hash = undefined;
      if (actual !== file.sha256) {
        await rm(partial, { force: true });
        throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
          path: file.path,
          actual,
          expected: file.sha256,
        });
      }
      return;
    } catch (error) {
      if (
        ++failures > MAX_RETRIES ||
        error instanceof RemoteRegistryError ||
        (isRegistryError(error) && error.code === 'FERRY_REGISTRY_DIGEST_MISMATCH')
      )
        throw error;
      await sleep(200 * 2 ** failures);
    }
  }
}
