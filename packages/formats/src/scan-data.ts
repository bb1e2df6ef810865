import { finding } from './finding-kinds.js';
import { basename } from 'node:path';
import type { Finding } from './model.js';
import { lfsPointer } from './lfs-pointer.js';
import { MAX_SCAN_TEXT_BYTES } from './limits.js';
import { FileSource } from './tensor/byte-source.js';

/** What a data file turned out to be: JSON or plain text, read whole and understood. */
export interface DataFileJudgement {
  readonly format: 'json' | 'text';
  readonly findings: readonly Finding[];
}

/** No control bytes but tab, LF, CR and FF, no DEL: text, not binary, no terminal escapes. */
function plain(bytes: Uint8Array): boolean {
  for (const b of bytes)
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) return false;
  return true;
}

/**
 * Names a file no model reader claims when it is plain data: valid UTF-8 with no control bytes
 * but tab, LF, CR and FF (so no escape sequences, no binary), read to its last byte. JSON that
 * parses is `json`. Any other text is `text`, except Python source and scripts (a `.py` name or a
 * `#!` line): transformers runs a repo's modeling code on load with `trust_remote_code=True`, so
 * that is a finding, not data. Returns undefined for anything else: the caller reports it as an
 * unknown format, never as safe.
 */
export async function judgeDataFile(path: string): Promise<DataFileJudgement | undefined> {
  const source = await FileSource.open(path);
  let bytes: Uint8Array;
  try {
    if (source.size === 0 || source.size > MAX_SCAN_TEXT_BYTES) return undefined;
    // The head first: a binary file is turned away without reading it all.
    const head = await source.read(0, Math.min(source.size, 4096));
    // A git-LFS pointer is text that stands for a model nobody fetched: not data, never `safe`
    // (detect.ts names it in the unknown-format error).
    if (!plain(head) || lfsPointer(head, source.size)) return undefined;
    bytes = await source.read(0, source.size);
  } finally {
    await source.close();
  }
  if (!plain(bytes)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // C1 controls (U+0080-U+009F: CSI is U+009B) are terminal escapes too.
  if (/[\u0080-\u009f]/u.test(text)) return undefined;
  try {
    JSON.parse(text);
    return { format: 'json', findings: [] };
  } catch {
    // not JSON: plain text
  }
  if (basename(path).toLowerCase().endsWith('.py') || text.startsWith('#!')) {
    return {
      format: 'text',
      findings: [
        finding(
          'source-code',
          'program source beside the model: transformers runs it on load with trust_remote_code=True; review it',
        ),
      ],
    };
  }
  return { format: 'text', findings: [] };
}
