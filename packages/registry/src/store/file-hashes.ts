import { createHash, type Hash } from 'node:crypto';

/** Files whose running hash one process keeps at once (each is a hash state and a chunk list). */
const MAX_RUNNING_FILES = 1000;

interface Running {
  readonly hash: Hash;
  /** The chunks hashed so far, in file order. */
  readonly chunks: string[];
  bytes: number;
}

/**
 * Running sha256 of files whose chunks arrive at this process in file order from their first
 * byte (a cold push, a full fine-tune): the manifest commit then needs no second read of the
 * chunks. It is used only when the manifest lists exactly the chunks hashed, in that order (each
 * chunk verified against its own sha256 when stored); any gap, reorder or another server's packs
 * fall back to reading the chunks back.
 */
export class FileHashes {
  private readonly running = new Map<string, Running>();

  /** Feeds a chunk that a client says starts at `offset` of file `file`; ignored when it does not follow on. */
  add(file: string, offset: number, chunk: string, bytes: Uint8Array): void {
    let state = this.running.get(file);
    if (offset === 0 && state?.bytes !== 0) {
      state = { hash: createHash('sha256'), chunks: [], bytes: 0 };
      if (this.running.size >= MAX_RUNNING_FILES) this.running.delete(this.running.keys().next().value!);
      this.running.set(file, state);
    }
    if (!state || state.bytes !== offset) return;
    state.hash.update(bytes);
    state.chunks.push(chunk);
    state.bytes += bytes.length;
  }

  /** Forgets a file (a pack failed: its chunks may not all be stored). */
  drop(file: string): void {
    this.running.delete(file);
  }

  /** The file's sha256 if exactly these chunks were hashed in this order, else undefined. */
  take(file: string, chunks: readonly string[]): string | undefined {
    const state = this.running.get(file);
    this.running.delete(file);
    if (!state || state.chunks.length !== chunks.length) return undefined;
    for (let i = 0; i < chunks.length; i++) if (state.chunks[i] !== chunks[i]) return undefined;
    return state.hash.digest('hex');
  }
}
