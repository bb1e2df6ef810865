import { stat } from 'node:fs/promises';
import { ferryError, openModel, readTensorBytes } from '@ferry/formats';
import { optimizeError } from './errors.js';

/**
 * Sample inputs (calibration and verification data) from a safetensors, .npy or .npz file,
 * read through @ferry/formats' own readers (their limits and checks apply).
 */
/** Sample data is read whole into memory; larger sets belong in several runs (CWE-770). */
export const MAX_SAMPLE_FILE_BYTES = 1 << 30;

export type SampleDType = 'F32' | 'F16' | 'I64' | 'I32' | 'U8' | 'I8' | 'BOOL' | 'F64';
const SAMPLE_DTYPES = new Set<string>(['F32', 'F16', 'I64', 'I32', 'U8', 'I8', 'BOOL', 'F64']);
const SAMPLE_FORMATS = new Set<string>(['safetensors', 'npy', 'npz']);

export interface SampleTensor {
  readonly name: string;
  readonly dtype: SampleDType;
  readonly shape: number[];
  /** Dense little-endian C-order bytes, in a buffer of their own. */
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
  const bad = (rule: string) => optimizeError('FERRY_OPTIMIZE_DATA', { path, what: 'sample file', rule });
  const opened = await openModel(path);
  try {
    if (!SAMPLE_FORMATS.has(opened.format))
      throw bad(`it is ${opened.format}; sample inputs are safetensors, .npy or .npz`);
    const opaque = opened.opaque?.[0];
    if (opaque) throw bad(`tensor ${opaque.name} is ${opaque.type}, not dense numbers (${opaque.reason})`);
    const out: SampleTensor[] = [];
    for (const ref of opened.tensors) {
      if (!SAMPLE_DTYPES.has(ref.dtype)) throw bad(`tensor ${ref.name} is ${ref.dtype}, not a sample dtype`);
      // readTensorBytes may hand back a Node Buffer view of a pooled buffer: copy into a buffer
      // of its own, so typed-array views of `.buffer` see exactly these bytes.
      const bytes = Uint8Array.prototype.slice.call(await readTensorBytes(ref));
      out.push({ name: ref.name, dtype: ref.dtype as SampleDType, shape: [...ref.shape], bytes });
    }
    return out;
  } finally {
    await opened.close();
  }
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
