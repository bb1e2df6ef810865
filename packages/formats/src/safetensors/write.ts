import { ferryError } from '../errors.js';
import { writeAll, writeFileAtomic } from '../io/atomic-write.js';
import { BufferRing, DEFAULT_CHUNK_BYTES, readTensorChunks } from '../tensor/chunks.js';
import { type DType, isDType } from '../tensor/dtype.js';
import { denseByteLength, type TensorRef } from '../tensor/tensor-ref.js';
import { HEADER_LENGTH_BYTES, MAX_HEADER_SIZE } from './header.js';
import { batchLength, readBatch } from './write-batch.js';

/**
 * The order of the reference's `Dtype` enum (safetensors/src/tensor.rs), which declares dtypes
 * "in increasing alignment order"; its writer (`prepare`) sorts tensors by this rank,
 * descending, then by name, so every tensor's data is aligned to its element size.
 */
const DTYPE_RANK: Readonly<Record<DType, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  F8_E5M2: 3,
  F8_E4M3: 4,
  I16: 5,
  U16: 6,
  F16: 7,
  BF16: 8,
  I32: 9,
  U32: 10,
  F32: 11,
  C64: 12,
  F64: 13,
  I64: 14,
  U64: 15,
};

export interface WriteProgress {
  readonly tensor: string;
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface WriteOptions {
  readonly onProgress?: (progress: WriteProgress) => void;
}

export interface WriteResult {
  readonly path: string;
  readonly tensors: number;
  /** Tensor data bytes (the file is 8 + headerBytes + these). */
  readonly dataBytes: number;
  readonly headerBytes: number;
  readonly fileBytes: number;
}

interface Planned {
  readonly ref: TensorRef;
  readonly nameBytes: Buffer;
  readonly bytes: number;
  begin: number;
}

/** The reference writer's order: dtype rank descending, then name by bytes (Rust's `str` Ord). */
export function referenceOrder(a: { dtype: DType; name: string }, b: { dtype: DType; name: string }): number {
  return (
    DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))
  );
}

/**
 * The header exactly as the reference serializes it (serde_json, compact): `__metadata__` first
 * (keys sorted here, where the reference's HashMap order is arbitrary), then tensors in data
 * order, padded with spaces to a multiple of 8.
 */
export function serializeHeader(
  tensors: readonly { name: string; dtype: DType; shape: readonly number[]; begin: number; end: number }[],
  metadata: Readonly<Record<string, string>> | undefined,
): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    parts.push(
      `"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  }
  for (const t of tensors) {
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${t.begin},${t.end}]}`,
    );
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / HEADER_LENGTH_BYTES) * HEADER_LENGTH_BYTES;
  const out = Buffer.alloc(padded, 0x20);
  json.copy(out);
  return out;
}

/**
 * Writes tensors as one safetensors file, streaming: tensors are read and written one at a time,
 * in chunks through one reused buffer where the source allows (else one whole tensor at a time),
 * to a temp file renamed into place only when complete.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorRef[],
  metadata?: Readonly<Record<string, string>>,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const seen = new Set<string>();
  const planned: Planned[] = tensors.map((ref) => {
    if (!isDType(ref.dtype))
      throw ferryError('FERRY_TENSOR_DTYPE', { path, tensor: ref.name, dtype: ref.dtype });
    if (ref.name === '__metadata__') {
      throw ferryError('FERRY_BAD_ARGUMENT', { what: path, reason: 'no tensor may be named __metadata__' });
    }
    if (seen.has(ref.name)) {
      throw ferryError('FERRY_BAD_ARGUMENT', {
        what: path,
        reason: `two tensors are named ${JSON.stringify(ref.name)}`,
      });
    }
    seen.add(ref.name);
    return {
      ref,
      nameBytes: Buffer.from(ref.name),
      bytes: denseByteLength(ref.dtype, ref.shape, path, ref.name),
      begin: 0,
    };
  });
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string') {
      throw ferryError('FERRY_BAD_ARGUMENT', {
        what: path,
        reason: `metadata ${JSON.stringify(key)} is not a string`,
      });
    }
  }
  planned.sort(
    (a, b) => DTYPE_RANK[b.ref.dtype] - DTYPE_RANK[a.ref.dtype] || Buffer.compare(a.nameBytes, b.nameBytes),
  );
  let offset = 0;
  for (const p of planned) {
    p.begin = offset;
    offset += p.bytes;
  }
  const dataBytes = offset;
  const header = serializeHeader(
    planned.map((p) => ({
      name: p.ref.name,
      dtype: p.ref.dtype,
      shape: p.ref.shape,
      begin: p.begin,
      end: p.begin + p.bytes,
    })),
    metadata,
  );
  if (header.length > MAX_HEADER_SIZE) {
    throw ferryError('FERRY_SAFETENSORS_HEADER_TOO_LARGE', {
      path,
      length: header.length,
      limit: MAX_HEADER_SIZE,
    });
  }
  const prefix = new Uint8Array(HEADER_LENGTH_BYTES);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);

  await writeFileAtomic(path, async (file) => {
    // Two reused buffers for every tensor's chunks: memory stays at two chunks however large the
    // model, and the next chunk is read while the previous one is being written.
    const ring = new BufferRing(2, Math.min(DEFAULT_CHUNK_BYTES, Math.max(dataBytes, 1)));
    await writeAll(file, prefix);
    await writeAll(file, header);
    let done = 0;
    let pending: Promise<void> = Promise.resolve();
    for (let index = 0; index < planned.length; index++) {
      const p = planned[index]!;
      // Runs of small tensors: one buffer, a few reads, one write (write-batch.ts).
      const batch = batchLength(planned, index);
      if (batch > 1) {
        const items = planned.slice(index, index + batch);
        const bytes = await readBatch(items);
        await pending;
        pending = writeAll(file, bytes);
        pending.catch(() => {});
        for (const [k, item] of items.entries()) {
          done += item.bytes;
          options.onProgress?.({
            tensor: item.ref.name,
            tensorsDone: index + k + 1,
            tensorsTotal: planned.length,
            bytesDone: done,
            bytesTotal: dataBytes,
          });
        }
        index += batch - 1;
        continue;
      }
      let written = 0;
      for await (const chunk of readTensorChunks(p.ref, ring)) {
        written += chunk.length;
        if (written > p.bytes) break;
        // the write of the chunk before must end before its buffer is read into again
        await pending;
        pending = writeAll(file, chunk);
        // awaited on the next turn; until then a failed write must not count as unhandled
        pending.catch(() => {});
      }
      await pending;
      if (written !== p.bytes) {
        throw ferryError('FERRY_SAFETENSORS_WRITE_LENGTH', {
          path,
          tensor: p.ref.name,
          actual: written,
          expected: p.bytes,
        });
      }
      done += p.bytes;
      options.onProgress?.({
        tensor: p.ref.name,
        tensorsDone: index + 1,
        tensorsTotal: planned.length,
        bytesDone: done,
        bytesTotal: dataBytes,
      });
    }
    await pending;
  });
  return {
    path,
    tensors: planned.length,
    dataBytes,
    headerBytes: header.length,
    fileBytes: HEADER_LENGTH_BYTES + header.length + dataBytes,
  };
}
