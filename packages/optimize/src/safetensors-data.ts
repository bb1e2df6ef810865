import { readFile, stat } from 'node:fs/promises';
import { ferryError } from '@ferry/formats';

/**
 * A small reader for sample inputs in safetensors form (calibration and verification data),
 * used until @ferry/formats' safetensors reader lands. Rules from safetensors/src/tensor.rs
 * (`validate`): an 8-byte little-endian header length, a JSON header, offsets that tile the
 * data area exactly.
 */
/** safetensors' own header cap (MAX_HEADER_SIZE = 100 MB in tensor.rs; CWE-400). */
export const MAX_SAMPLE_HEADER_BYTES = 100_000_000;
/** Sample data is read whole into memory; larger sets belong in several runs (CWE-770). */
export const MAX_SAMPLE_FILE_BYTES = 1 << 30;
/** A model has a handful of inputs; a header naming more is hostile (CWE-400). */
export const MAX_SAMPLE_TENSORS = 10_000;
export const MAX_SAMPLE_RANK = 64;

export type SampleDType = 'F32' | 'F16' | 'I64' | 'I32' | 'U8' | 'I8' | 'BOOL' | 'F64';
const SIZES: Record<SampleDType, number> = { F32: 4, F16: 2, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1, F64: 8 };

export interface SampleTensor {
  readonly name: string;
  readonly dtype: SampleDType;
  readonly shape: number[];
  /** Little-endian bytes (a view of the file). */
  readonly bytes: Uint8Array;
}

export async function readSampleFile(path: string): Promise<SampleTensor[]> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
    throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
  }
  if (size > MAX_SAMPLE_FILE_BYTES)
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'sample file size',
      value: size,
      limit: MAX_SAMPLE_FILE_BYTES,
      reason: 'sample data is read whole (CWE-770)',
    });
  return parseSamples(new Uint8Array(await readFile(path)), path);
}

export function parseSamples(file: Uint8Array, path: string): SampleTensor[] {
  const bad = (rule: string) =>
    ferryError('FERRY_OPTIMIZE_DATA', { path, what: 'safetensors sample file', rule });
  if (file.byteLength < 8)
    throw ferryError('FERRY_TRUNCATED', { path, what: 'header length', offset: 0, size: file.byteLength });
  const headerLength = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_SAMPLE_HEADER_BYTES))
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'safetensors header length',
      value: headerLength,
      limit: MAX_SAMPLE_HEADER_BYTES,
      reason: "safetensors' MAX_HEADER_SIZE (CWE-400)",
    });
  const start = 8 + Number(headerLength);
  if (start > file.byteLength)
    throw ferryError('FERRY_TRUNCATED', {
      path,
      what: 'safetensors header',
      offset: 8,
      size: file.byteLength,
    });
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, start)));
  } catch (error) {
    throw bad(`header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad('header is not a JSON object');
  const entries = Object.entries(header as Record<string, unknown>).filter(([k]) => k !== '__metadata__');
  if (entries.length > MAX_SAMPLE_TENSORS)
    throw bad(`header names ${entries.length} tensors, over ${MAX_SAMPLE_TENSORS}`);
  const dataLength = file.byteLength - start;
  const spans: [number, number, string][] = [];
  const tensors = entries.map(([name, value]) => {
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!v || typeof v !== 'object') throw bad(`tensor ${name}: entry is not an object`);
    if (typeof v.dtype !== 'string' || !(v.dtype in SIZES))
      throw bad(`tensor ${name}: dtype ${String(v.dtype)} is not a sample dtype`);
    const dtype = v.dtype as SampleDType;
    if (
      !Array.isArray(v.shape) ||
      v.shape.length > MAX_SAMPLE_RANK ||
      !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    )
      throw bad(`tensor ${name}: shape must be a list of at most ${MAX_SAMPLE_RANK} non-negative integers`);
    const offsets = v.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    )
      throw bad(`tensor ${name}: data_offsets must be two non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength)
      throw bad(`tensor ${name}: data_offsets [${begin}, ${end}] outside the ${dataLength}-byte data area`);
    const shape = v.shape as number[];
    let count = 1;
    for (const d of shape) count *= d;
    if (count * SIZES[dtype] !== end - begin)
      throw bad(
        `tensor ${name}: ${end - begin} bytes, ${dtype} ${JSON.stringify(shape)} needs ${count * SIZES[dtype]}`,
      );
    spans.push([begin, end, name]);
    return { name, dtype, shape, bytes: file.subarray(start + begin, start + end) };
  });
  // tensor.rs: the tensors must tile the data area, no gaps or overlaps.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) throw bad(`tensor ${name}: starts at ${begin}, expected ${at} (gap or overlap)`);
    at = end;
  }
  if (at !== dataLength) throw bad(`data area has ${dataLength - at} bytes after the last tensor`);
  return tensors;
}

/** Writes tensors in safetensors form (tests and the bench use it to hand inputs to the CLI). */
export function encodeSamples(tensors: readonly SampleTensor[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}
