import { readFile } from 'node:fs/promises';
import { parseModelConfig } from '@ferry/serve';
import { parse } from 'yaml';
import { UsageError } from '../usage-error.js';

/** Serving config files are small YAML documents (Triton's fields); a bigger file is a mistake. */
const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * Reads a deployment's serving config (the fields of the server's config.yaml), checked by the
 * server's own parser now so a typo fails here rather than on every server that loads it.
 */
export async function readDeploymentConfig(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new UsageError(`--config ${path}: ${error.message}`);
  });
  if (text.length > MAX_CONFIG_BYTES)
    throw new UsageError(`--config ${path}: ${text.length} bytes, over the limit of ${MAX_CONFIG_BYTES}`);
  const doc: unknown = parse(text, { maxAliasCount: 10 });
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`--config ${path}: must be a YAML mapping of serving fields`);
  parseModelConfig(doc, path);
  return doc as Record<string, unknown>;
}
