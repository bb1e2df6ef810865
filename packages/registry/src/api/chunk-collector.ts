import { collectGarbage } from '../store/chunk-gc.js';
import type { ChunkedBlobStore } from '../store/chunked-blob-store.js';

/** How often each server collects unreferenced chunks: deleted versions free their space within it. */
export const GC_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Runs the chunk collector (store/chunk-gc.ts) every GC_INTERVAL_MS, not at start (a restart
 * loop must not turn into a collection loop). Several servers on one backend may run it at once:
 * the collector's row locks make that safe, only redundant. `POST /api/v1/admin/gc` runs it now.
 */
export class ChunkCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly files: ChunkedBlobStore,
    private readonly intervalMs = GC_INTERVAL_MS,
  ) {}

  start(): void {
    const tick = () => {
      this.running = collectGarbage(this.files.chunks, this.files.raw)
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
