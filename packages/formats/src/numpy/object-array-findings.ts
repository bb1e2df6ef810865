import type { Finding } from '../model.js';
import { scanContainer } from '../pickle/container.js';
import { FileInput } from '../pickle/input.js';
import type { ByteSource } from '../tensor/byte-source.js';

/**
 * The findings `ferry scan` reports for an .npy/.npz file with object arrays (their data is a
 * pickle, judged by the pickle scanner), so inspect shows the same findings with the same
 * severities as scan: one judgement of a file whatever the command (issue #22.5). The handler's
 * own findings that the scan does not make (npy-trailing-data) are kept.
 */
export async function withObjectArrayFindings(
  path: string,
  source: ByteSource,
  own: readonly Finding[],
): Promise<Finding[]> {
  const inputs: FileInput[] = [];
  try {
    const scan = await scanContainer(source, path, (start, end) => {
      const input = new FileInput(path, start, end);
      inputs.push(input);
      return input;
    });
    const judged = scan?.findings ?? [];
    const key = (f: Finding) => `${f.rule}\u0000${f.location ?? ''}`;
    const seen = new Set(judged.map(key));
    const kinds = new Set(judged.map((f) => f.rule));
    // The scan names each object array once (npy-object-array at its member): keep one of each.
    const extra = own.filter(
      (f) => !seen.has(key(f)) && !(f.rule === 'npy-object-array' && kinds.has(f.rule)),
    );
    if (scan?.error) throw scan.error;
    return [...judged, ...extra];
  } finally {
    for (const input of inputs) input.close();
  }
}
