import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import type { PickleInput } from './input.js';

/**
 * A pickle input as a ByteSource, so bytes a pickle holds inline (an ndarray's data in a torch
 * checkpoint's data.pkl) are tensor ranges like any other; offsets are the input's own.
 */
export class PickleInputSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  constructor(private readonly input: PickleInput) {
    this.name = input.name;
    this.size = input.end;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.input.start || length < 0 || offset + length > this.input.end) {
      throw ferryError('FERRY_TRUNCATED', {
        path: this.name,
        what: `${length} bytes`,
        offset,
        size: this.size,
      });
    }
    return this.input.read(offset, length).slice();
  }
  async close(): Promise<void> {}
}
