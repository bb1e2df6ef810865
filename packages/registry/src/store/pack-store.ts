import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';

/** Pack names: random ids (a pack is named before its bytes are known; see chunk-store.ts). */
export const PACK_ID = /^[0-9a-f]{32}$/;

/** One pack being written: bytes appended back to back, durable only once `sync` resolves. */
export interface PackWriter {
  /** Where the next byte goes (the pack's length so far). */
  readonly length: number;
  /** Appends bytes (their place is taken at the call, so appends may overlap); no fsync. */
  append(bytes: Uint8Array): Promise<void>;
  /** fdatasync of the pack (and of its folder when the pack is new): its bytes survive a crash. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Chunks stored back to back in pack files (issue #20, like Xet's xorbs): one file and one fsync
 * per chunk upload request instead of one per chunk, and when a file's chunks arrive in file
 * order the pack IS the file, so inspection links it and downloads read it as one range. A store
 * that has no cheap appendable files (OCI) keeps one blob per chunk and has no PackStore.
 */
export interface PackStore {
  /** Opens pack `id` for appending at byte `at` (0 creates it; more cuts a stale tail off first). */
  open(id: string, at: number): Promise<PackWriter>;
  /** Streams an inclusive byte range of a pack. */
  get(id: string, range: ByteRange): Promise<Readable>;
  /** The pack's file (lets inspection link a file that is exactly one pack). */
  localPath(id: string): string;
  delete(id: string): Promise<void>;
  /**
   * Gives back the disk space of ranges of a pack no chunk uses any more (their chunk rows are
   * gone, so nothing reads them); answers the bytes given back, 0 where the file system cannot.
   */
  release(id: string, ranges: readonly { offset: number; size: number }[]): Promise<number>;
}
