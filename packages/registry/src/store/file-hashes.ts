import { createHash, type Hash } from 'node:crypto';

/** Files whose running hash one process keeps at once (each is a hash state and a chunk list). */
const MAX_RUNNING_FILES = 1000;
/**
 * A running hash not continued or committed for this long is dropped (its commit then reads the
 * chunks back): a push keeps a file's state between its packs and until the version's commit,
 * which comes once every file of the version is hashed and sent.
 */
export const RUNNING_FILE_TTL_MS = 60 * 60 * 1000;

/**
 * Keys of running files: `sha256:HEX` (packs that named the file, x-ferry-file) or `upload:ID`
 * (packs sent before the client knew the file's sha256, x-ferry-upload: 128 random bits).
 */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** One file's chunks received so far, in file order from its first byte. */
export class RunningFile {
  private readonly hash: Hash = createHash('sha256');
  /** The chunks hashed so far, in file order. */
  readonly chunks: string[] = [];
  bytes = 0;
  /**
   * The pack that holds every byte so far at its file offset (the pack IS the file's beginning),
   * while each pack request of this file continued it; undefined once one could not.
   */
  pack: string | undefined;
  /** When a request last ended with this state (FileHashes drops states idle too long). */
  touched = 0;

  add(chunk: string, bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.chunks.push(chunk);
    this.bytes += bytes.length;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Running sha256 of files whose chunks arrive at this process in file order from their first
 * byte (a cold push, a full fine-tune): the manifest commit then needs no second read of the
 * chunks, and the pack they were written to can stand for the whole file. It is used only when
 * the manifest lists exactly the chunks hashed, in that order (each chunk verified against its own
 * sha256 when stored); any gap, reorder or another server's packs fall back to reading back.
 */
export class FileHashes {
  /** In the order the states were last touched (end() re-inserts), oldest first. */
  private readonly running = new Map<string, RunningFile>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A pack request of `file` starting at `offset`: the running state it continues (offset 0
   * starts one), taken out while the request runs so two requests never feed one state.
   */
  begin(file: string, offset: number): RunningFile | undefined {
    const state = offset === 0 ? new RunningFile() : this.running.get(file);
    this.running.delete(file);
    if (state && offset > 0 && this.now() - state.touched >= RUNNING_FILE_TTL_MS) return undefined;
    return state?.bytes === offset ? state : undefined;
  }

  /** The request stored all its chunks: the next pack of the file may continue the state. */
  end(file: string, state: RunningFile): void {
    const now = this.now();
    for (const [key, old] of this.running) {
      if (now - old.touched < RUNNING_FILE_TTL_MS && this.running.size < MAX_RUNNING_FILES) break;
      this.running.delete(key);
    }
    state.touched = now;
    this.running.set(file, state);
  }

  /**
   * The file's sha256 (and the pack that is exactly the file, if any) when exactly these chunks
   * were hashed in this order, else undefined. Taken once.
   */
  take(file: string, chunks: readonly string[]): { sha256: string; pack?: string } | undefined {
    const state = this.running.get(file);
    this.running.delete(file);
    if (!state || this.now() - state.touched >= RUNNING_FILE_TTL_MS) return undefined;
    if (state.chunks.length !== chunks.length) return undefined;
    for (let i = 0; i < chunks.length; i++) if (state.chunks[i] !== chunks[i]) return undefined;
    return { sha256: state.digest(), ...(state.pack !== undefined && { pack: state.pack }) };
  }
}
