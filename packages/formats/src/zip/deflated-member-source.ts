import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import type { InflateBudget } from './inflate-budget.js';
import { inflateRange } from './inflate-member.js';
import type { ZipArchive, ZipEntry } from './zip-reader.js';

/**
 * A deflated member as a byte source that inflates on each read (deflate has no random access):
 * opening inflates nothing, sniffing a header inflates a chunk, and a read holds only its own
 * range. A caller that needs the whole member (a pickle, a nested zip) reads it once.
 */
export class DeflatedMemberSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  constructor(
    private readonly zip: ZipArchive,
    private readonly entry: ZipEntry,
    private readonly budget?: InflateBudget,
  ) {
    this.name = `${zip.source.name}:${entry.name}`;
    this.size = entry.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw ferryError('FERRY_TRUNCATED', {
        path: this.name,
        what: `range of ${length} bytes`,
        offset,
        size: this.size,
      });
    }
    return inflateRange(this.zip, this.entry, offset, length, this.budget);
  }

  async close(): Promise<void> {}
}
