import { createHash } from 'node:crypto';
import { chunk as chunking } from '@ferry/formats';
import type { ChunkedLocalFile, TransferBytes } from './chunked-upload.js';
import { inOrderBudget, lacking, newUploadId, packsOf, sendPack } from './chunked-upload.js';
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
 * soon as it is hashed, and its packs go up (in window order) while the next window is hashed.
 * While the registry lacks nearly all of the file so far (MIN_MISSING_SHARE: a cold push, a full
 * fine-tune), every chunk goes, in file order, each pack naming a random upload id and its offset
 * (x-ferry-upload), so the registry hashes the file as packs arrive and keeps it as one pack; the
 * manifest commit names the same id and reads nothing back. Once the present bytes pass that
 * budget, only the missing chunks go. What is sent early is counted in `early` (and the upload id
 * in `upload` when every chunk went in order); the version's manifest commit comes later and
 * asks again, so a chunk collected meanwhile is sent again.
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
      ...(early?.inOrder !== undefined && { upload: early.inOrder }),
    });
  }
  return out;
}

/** One file's chunks, asked about window by window and sent in the background. */
class EarlyPacks {
  readonly bytes: TransferBytes = { sent: 0, skipped: 0 };
  /** Names this file's in-order packs (x-ferry-upload) until its sha256 is known. */
  readonly upload = newUploadId();
  private window: chunking.FileChunk[] = [];
  private windowBytes = 0;
  private count = 0;
  /** Chunks asked about: a chunk that repeats is asked once. */
  private readonly asked = new Set<string>();
  /** Chunks the registry lacked when asked. */
  private readonly lacks = new Set<string>();
  /** Chunks sent or present: a chunk that repeats is sent once (out of order). */
  private readonly seen = new Set<string>();
  /** Every chunk so far went in file order: the file may still be one pack at the registry. */
  private ordered = true;
  /** Bytes sent in order that the registry had or that repeat, within inOrderBudget. */
  private extra = 0;
  private sending: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly send: EarlySend,
    private readonly file: Omit<LocalFile, 'sha256'>,
  ) {}

  /** The upload id that carried every chunk in order, once end() resolved; else undefined. */
  get inOrder(): string | undefined {
    return this.ordered && this.count <= MAX_CHUNKS_PER_REQUEST ? this.upload : undefined;
  }

  async add(c: chunking.FileChunk): Promise<void> {
    // A file of more chunks than one manifest lists goes up whole (uploadMissing): stop here.
    if (++this.count > MAX_CHUNKS_PER_REQUEST) return;
    this.window.push(c);
    this.windowBytes += c.size;
    if (this.windowBytes >= WINDOW_BYTES) this.flush();
    if (this.failed) throw this.failed;
  }

  /** Asks about the last window and waits for every pack sent. */
  async end(): Promise<void> {
    this.flush();
    await this.sending;
    if (this.failed) throw this.failed;
  }

  async abandon(): Promise<void> {
    this.failed ??= new Error('abandoned');
    await this.sending.catch(() => undefined);
  }

  /**
   * Queues a window: its question (which chunks the registry lacks) goes at once, and its packs
   * after the packs of the windows before it, while this thread hashes the next window.
   */
  private flush(): void {
    const window = this.window;
    this.window = [];
    this.windowBytes = 0;
    if (window.length === 0) return;
    const fresh = [...new Set(window.map((c) => c.sha256).filter((sha) => !this.asked.has(sha)))];
    for (const sha of fresh) this.asked.add(sha);
    const asking = fresh.length > 0 ? lacking(this.send.client, fresh) : Promise.resolve(new Set<string>());
    asking.catch(() => {}); // reported in the chain below
    this.sending = this.sending.then(async () => {
      if (this.failed) return;
      try {
        for (const sha of await asking) this.lacks.add(sha);
        await this.sendWindow(window);
      } catch (error) {
        this.failed ??= error;
      }
    });
  }

  private async sendWindow(window: chunking.FileChunk[]): Promise<void> {
    const todo: chunking.FileChunk[] = [];
    let extra = 0;
    for (const c of window) {
      // A chunk the registry has, or one that repeats in the file, travels only in file order.
      if (this.lacks.has(c.sha256) && !this.seen.has(c.sha256)) todo.push(c);
      else extra += c.size;
      this.seen.add(c.sha256);
    }
    if (this.ordered && this.extra + extra <= inOrderBudget(this.file.size)) {
      this.extra += extra;
      for (const pack of packsOf(window))
        await this.sendOne(pack, { upload: this.upload, offset: pack[0]!.offset });
      return;
    }
    // Too much of the file is present for the in-order send: from here only what is missing.
    this.ordered = false;
    this.bytes.skipped += extra;
    this.report();
    for (const pack of packsOf(todo)) await this.sendOne(pack);
  }

  private async sendOne(pack: chunking.FileChunk[], inOrder?: { upload: string; offset: number }) {
    await sendPack(this.send.client, this.file.absolute, pack, inOrder);
    this.bytes.sent += pack.reduce((n, c) => n + c.size, 0);
    this.report();
  }

  private report(): void {
    this.send.onBytes(this.file.path, this.bytes);
  }
}
