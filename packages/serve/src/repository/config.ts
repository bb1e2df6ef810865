import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import {
  DEFAULT_CONFIG,
  fieldPathText,
  type ModelConfig,
  type VersionPolicy,
  validateModelConfig,
} from '@ferry/serving-api';
import { serveError } from '../errors.js';
import { MAX_CONFIG_BYTES } from '../limits.js';

/**
 * Reads config.yaml beside a model's version folders (docs/serving.md "config.yaml"); the schema
 * it is checked against is @ferry/serving-api's, the same one a bundle's ferry.yaml uses.
 */
export async function readModelConfig(path: string): Promise<ModelConfig> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return DEFAULT_CONFIG;
  }
  if (size > MAX_CONFIG_BYTES)
    throw serveError('FERRY_SERVE_CONFIG', {
      path,
      field: '(file)',
      reason: `is ${size} bytes, over the limit of ${MAX_CONFIG_BYTES} (CWE-776)`,
    });
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    // maxAliasCount bounds alias expansion (billion laughs, CWE-776)
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw serveError('FERRY_SERVE_CONFIG', {
      path,
      field: '(yaml)',
      reason: (error as Error).message.split('\n')[0]!,
    });
  }
  return parseModelConfig(doc ?? {}, path);
}

/**
 * Validates a parsed config document against serving-api's model config schema, stopping at the
 * first broken rule; the error names the file and the dotted field.
 */
export function parseModelConfig(doc: unknown, path: string): ModelConfig {
  const result = validateModelConfig(doc, { mode: 'first', wording: 'config-yaml' });
  if (result.ok) return result.value;
  const issue = result.issues[0]!;
  throw serveError('FERRY_SERVE_CONFIG', { path, field: fieldPathText(issue.path), reason: issue.rule });
}

/** The versions a policy serves, out of those present (sorted ascending). */
export function selectVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  if (policy.kind === 'all') return sorted;
  if (policy.kind === 'latest') return sorted.slice(-policy.count);
  return sorted.filter((v) => policy.versions.includes(v));
}
