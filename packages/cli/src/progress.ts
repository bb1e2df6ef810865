import type { TransferBytes } from '@ferry/registry-client';
import { formatBytes } from './format-table.js';
import type { CliIO } from './io.js';
import { terminalText, writeRaw } from './terminal-text.js';

/**
 * A progress bar on stderr, drawn only on a TTY and only once the work has run for a second
 * (short jobs stay quiet). `update` is cheap to call per chunk: it redraws at most 10 times a second.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly io: CliIO,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number, note = ''): void {
    if (!this.io.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.started < 1000 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    const width = 30;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const filled = Math.round(fraction * width);
    const rate = done / ((now - this.started) / 1000);
    const eta = rate > 0 ? Math.max(0, (this.total - done) / rate) : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  eta ${eta.toFixed(0)}s ${terminalText(note)}`;
    const columns = this.io.stderr.columns ?? 100;
    writeRaw(this.io.stderr, `\r${line.slice(0, columns - 1).padEnd(Math.min(columns - 1, line.length))}`);
  }

  finish(): void {
    if (this.drawn) writeRaw(this.io.stderr, '\r\x1b[K');
  }
}

/** A chunked transfer's progress note: bytes that travelled, and bytes the other side already had. */
export function transferNote(bytes: TransferBytes): string {
  return `sent ${formatBytes(bytes.sent)}, skipped ${formatBytes(bytes.skipped)}`;
}
