import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { openMember, type ZipArchive, type ZipEntry } from '../zip/index.js';

/**
 * A deflated .npz member (np.savez_compressed) as a byte source that inflates on each read,
 * bounded by the zip reader's MAX_INFLATED_MEMBER: opening an .npz inflates nothing, and a
 * conversion holds one member at a time.
 */
export class DeflatedMemberSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  constructor(
    private readonly zip: ZipArchive,
    private readonly entry: ZipEntry,
  ) {
    this.name = `${zip.source.name}:${entry.name}`;
    this.size = entry.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const inflated = await openMember(this.zip, this.entry);
    if (inflated.size !== this.entry.size) {
      throw ferryError('FERRY_NPZ_MEMBER', {
        path: this.zip.source.name,
        member: this.entry.name,
        reason: `inflates to ${inflated.size} bytes, the directory says ${this.entry.size}`,
      });
    }
    return inflated.read(offset, length);
  }

  async close(): Promise<void> {}
}
