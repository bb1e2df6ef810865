import { ferryError } from '../errors.js';
import { FileSource } from '../tensor/byte-source.js';
import { type ContainerScan, scanContainer } from './container.js';
import { FileInput } from './input.js';
import { isUnsafeFinding } from '../verdict.js';

export interface Scanned {
  readonly source: FileSource;
  readonly scan: ContainerScan;
  close(): Promise<void>;
}

/**
 * Scans a file before anything is loaded from it; a file the scan calls unsafe (verdict.ts) is
 * refused unless the caller asked for unsafeInspect (which still runs nothing: the graph is
 * inert either way, the refusal only keeps unsafe files out of pipelines by default).
 */
export async function openScanned(path: string, unsafeInspect: boolean | undefined): Promise<Scanned> {
  const source = await FileSource.open(path);
  const inputs: FileInput[] = [];
  const close = async () => {
    for (const input of inputs) input.close();
    await source.close();
  };
  try {
    const scan = await scanContainer(source, path, (start, end) => {
      const input = new FileInput(path, start, end);
      inputs.push(input);
      return input;
    });
    if (!scan) throw ferryError('FERRY_UNKNOWN_FORMAT', { path, reason: 'not a pickle, zip or torch file' });
    // Only what makes the file unsafe refuses it; an invalid structure (a bad CRC) is a note.
    const serious = scan.findings.filter(isUnsafeFinding);
    if (serious.length > 0 && !unsafeInspect) {
      const first = serious[0]!;
      throw ferryError('FERRY_PICKLE_REFUSED', {
        path,
        count: serious.length,
        first: `${first.severity} ${first.rule}: ${first.message}${first.location ? ` at ${first.location}` : ''}`,
      });
    }
    // After the findings: a file that ran something before failing to parse is refused as unsafe.
    if (scan.error) throw scan.error;
    return { source, scan, close };
  } catch (error) {
    await close();
    throw error;
  }
}
