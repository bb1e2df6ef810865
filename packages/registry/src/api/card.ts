import { parse } from 'yaml';
import { registryError } from '../errors.js';
import { MAX_CARD_BYTES } from '../limits.js';

export interface ModelCard {
  readonly text: string;
  /** The YAML front matter (as on the Hub: license, tags, datasets, metrics...). */
  readonly metadata: Record<string, unknown>;
  readonly body: string;
}

/** A README.md with optional YAML front matter between `---` lines at the very top. */
export function parseCard(text: string): ModelCard {
  if (Buffer.byteLength(text) > MAX_CARD_BYTES)
    throw registryError('FERRY_REGISTRY_TOO_LARGE', {
      what: 'model card',
      value: Buffer.byteLength(text),
      limit: MAX_CARD_BYTES,
    });
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!match) return { text, metadata: {}, body: text };
  let metadata: unknown;
  try {
    // yaml builds plain data only (no tags that construct objects); maxAliasCount bounds the
    // billion-laughs expansion (CWE-776).
    metadata = parse(match[1]!, { maxAliasCount: 100, logLevel: 'error' });
  } catch (error) {
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'model card front matter',
      reason: `not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    });
  }
  if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'model card front matter',
      reason: 'must be a YAML mapping',
    });
  return { text, metadata: (metadata ?? {}) as Record<string, unknown>, body: match[2]! };
}
