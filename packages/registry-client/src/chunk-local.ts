import { createHash } from 'node:crypto';
import { chunk as chunking } from '@ferry/formats';
import type { ChunkedLocalFile, TransferBytes } from './chunked-upload.js';
import { lacking, packsOf, sendPack } from './chunked-upload.js';
import type { RegistryClient } from './client.js';
import { registryError } from './errors.js';
import { ASIDE_MIN_BYTES, hashFileAside } from './file-hash-worker.js';
import { MAX_CHUNKS_PER_REQUEST } from './limits.js';
import type { LocalFile } from './local-files.js';

/** Chunk bytes hashed between two "which do you lack" questions: a pack's worth. */
const WINDOW_BYTES = 64 * 1024 * 1024;

/** Where chunk packs go while a push still hashes, and who hears of the bytes. */
export interface EarlySend {
  readonly client: RegistryClient;
  /** Bytes sent and skipped so far, over all files. */
  readonly onBytes: (path: string, bytes: TransferBytes) => void;
}

/**
 * Chunks local files, and (with `send`) uploads the chunks the registry lacks as they are hashed.
 * Tensor ranges come from all the files together, so an ONNX model's external data file is cut at
 * its tensors.
 *
 * Per file, two passes run side by side on two cores: this thread cuts and hashes the chunks
 * while a worker hashes the whole file (its identity). Every window of chunks is asked about as
 * soon as it is hashed, and the missing ones go up in packs while the next window is hashed,
 * except while every chunk so far is missing: such a file (a cold push) may go up whole in file
 * order, where each pack names the file (x-ferry-file) so the registry hashes the file as packs
 * arrive and its manifest commit reads nothing back. That needs the file's sha256 first, so those
 * chunks wait for the end of the pass (`uploadChunked` sends them); once a window shows a chunk
 * the registry has, the file cannot go in order and the waiting chunks go too. What is sent
 * early is counted in `early`; the version's manifest commit comes later and asks again, so a
 * chunk collected meanwhile is sent again.
 */
export async function chunkLocal(
  files: readonly Omit<LocalFile, 'sha256'>[],
  send?: EarlySend,
): Promise<ChunkedLocalFile[]> {
  const spans = await chunking.tensorSpans(files.map((f) => f.absolute));
  const out: ChunkedLocalFile[] = [];
  for (const file of files) {
    const tensors = await chunking.spansOf(file.absolute, spans);
    const aside =
      file.size >= ASIDE_MIN_BYTES ? hashFileAside(file.absolute, { size: file.size }) : undefined;
    const inline = aside ? null : createHash('sha256');
    const early = send && new EarlyPacks(send, file);
    const chunks: chunking.FileChunk[] = [];
    let size = 0;
    try {
      for await (const { offset, size: n, sha256 } of chunking.chunkStream(file.absolute, tensors, inline)) {
        chunks.push({ offset, size: n, sha256 });
        size += n;
        await early?.add({ offset, size: n, sha256 });
      }
      await early?.end();
    } catch (error) {
      await aside?.cancel();
      await early?.abandon();
      throw error;
    }
    // The worker hashed the size listed before; a file written meanwhile would get a wrong name.
    if (size !== file.size) {
      await aside?.cancel();
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: file.absolute,
        reason: `changed size while it was read (${file.size} -> ${size} bytes)`,
      });
    }
    out.push({
      ...file,
      sha256: aside ? await aside.finish(size) : inline!.digest('hex'),
      size,
      chunks,
      ...(early && { early: early.bytes.sent }),
    });
  }
  return out;
}

/** One file's chunks, asked about window by window and sent in the background. */
class EarlyPacks {
  readonly bytes: TransferBytes = { sent: 0, skipped: 0 };
  private window: chunking.FileChunk[] = [];
  private windowBytes = 0;
  private count = 0;
  /** Chunks asked about or queued: a chunk that repeats is asked and sent once. */
  private readonly seen = new Set<string>();
  /** Every chunk so far missing and new: the file may still go up in order, after the pass. */
  private ordered = true;
  private held: chunking.FileChunk[] = [];
  private sending: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly send: EarlySend,
    private readonly file: Omit<LocalFile, 'sha256'>,
  ) {}

  async add(c: chunking.FileChunk): Promise<void> {
    // A file of more chunks than one manifest lists goes up whole (uploadMissing): stop here.
    if (++this.count > MAX_CHUNKS_PER_REQUEST) return;
    this.window.push(c);
    this.windowBytes += c.size;
    if (this.windowBytes >= WINDOW_BYTES) await this.flush();
  }

  /** Asks about the last window and waits for every pack sent (the held ones stay held). */
  async end(): Promise<void> {
    await this.flush();
    await this.sending;
    if (this.failed) throw this.failed;
  }

  async abandon(): Promise<void> {
    await this.sending.catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    const window = this.window;
    this.window = [];
    this.windowBytes = 0;
    const fresh = [...new Set(window.map((c) => c.sha256).filter((sha) => !this.seen.has(sha)))];
    const missing = fresh.length > 0 ? await lacking(this.send.client, fresh) : new Set<string>();
    const todo: chunking.FileChunk[] = [];
    for (const c of window) {
      // A chunk the registry has, or one that repeats in the file, does not travel.
      if (missing.has(c.sha256) && !this.seen.has(c.sha256)) todo.push(c);
      else this.bytes.skipped += c.size;
      this.seen.add(c.sha256);
    }
    if (this.ordered && todo.length === window.length) {
      this.held.push(...todo);
      return;
    }
    if (this.ordered) {
      this.ordered = false;
      todo.unshift(...this.held);
      this.held = [];
    }
    this.report();
    for (const pack of packsOf(todo)) {
      const bytes = pack.reduce((n, c) => n + c.size, 0);
      this.sending = this.sending.then(async () => {
        if (this.failed) return;
        await sendPack(this.send.client, this.file.absolute, pack).catch((error) => {
          this.failed = error;
        });
        if (this.failed) return;
        this.bytes.sent += bytes;
        this.report();
      });
    }
  }

  private report(): void {
    this.send.onBytes(this.file.path, this.bytes);
  }
}
