import { MAX_UPLOADS_PER_SWEEP, UPLOAD_IDLE_TTL_MS, UPLOAD_SWEEP_INTERVAL_MS } from '../limits.js';
import type { BlobStore } from '../store/blob-store.js';
import type { UploadSessions } from '../store/uploads.js';

export interface UploadExpiryOptions {
  /** A session idle this long is removed with its partial bytes (default UPLOAD_IDLE_TTL_MS, 24 h). */
  readonly ttlMs?: number;
  /** How often to sweep (default UPLOAD_SWEEP_INTERVAL_MS); the first sweep runs at start. */
  readonly sweepMs?: number;
  /** The clock, in ms (tests move it instead of waiting a day). */
  readonly now?: () => number;
}

/**
 * Removes abandoned resumable uploads (issue #24: a 256 MB orphan after kill -9 stayed forever):
 * sessions idle past the TTL, with their partial bytes, and partial files in the blob store that
 * no session row names any more (a crash between the file and the row, a whole-blob PUT cut off).
 * Every server sweeps; removals are conditional, so two sweeping at once do no harm.
 */
export class UploadSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly ttlMs: number;
  private readonly sweepMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sessions: UploadSessions,
    private readonly blobs: BlobStore,
    options: UploadExpiryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? UPLOAD_IDLE_TTL_MS;
    this.sweepMs = options.sweepMs ?? UPLOAD_SWEEP_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** One sweep; returns the sessions and stray files removed. */
  async sweep(): Promise<{ sessions: number; strays: number }> {
    const cutoff = new Date(this.now() - this.ttlMs);
    let sessions = 0;
    for (const idle of await this.sessions.idleSince(cutoff.toISOString(), MAX_UPLOADS_PER_SWEEP)) {
      if (!(await this.sessions.removeIfIdle(idle.id, cutoff.toISOString()))) continue;
      await this.blobs.abortUpload(idle.state).catch(() => undefined);
      sessions++;
    }
    let strays = 0;
    for (const id of (await this.blobs.staleUploads?.(cutoff, MAX_UPLOADS_PER_SWEEP)) ?? []) {
      if (await this.sessions.exists(id)) continue;
      await this.blobs.abortUpload({ id }).catch(() => undefined);
      strays++;
    }
    return { sessions, strays };
  }

  /** Sweeps now (what a restart after kill -9 needs), then every `sweepMs`. */
  async start(): Promise<void> {
    await this.sweep();
    const tick = () => {
      this.running = this.sweep()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.sweepMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.sweepMs).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
