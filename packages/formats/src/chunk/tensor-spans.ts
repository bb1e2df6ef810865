import { realpath } from 'node:fs/promises';
import { openModel } from '../open.js';
import { type ByteSource, SliceSource } from '../tensor/byte-source.js';
import type { Span } from './plan.js';

/** Where a source's offset 0 lies in a real file, or undefined when its bytes are not one (deflated, in memory). */
export function fileOrigin(source: ByteSource): { file: string; offset: number } | undefined {
  if (source instanceof SliceSource) {
    const parent = fileOrigin(source.parent);
    return parent && { file: parent.file, offset: parent.offset + source.start };
  }
  return source.file === undefined ? undefined : { file: source.file, offset: 0 };
}

/**
 * The byte ranges of the tensors in these files, per real path, as ferry's readers see them
 * (safetensors, ONNX and its external data files, GGUF, PyTorch zip, NumPy). A file no reader
 * opens contributes nothing: it is chunked by content alone, which is never wrong, only coarser.
 * An ONNX model's external data file gets its ranges from the model that names it.
 */
export async function tensorSpans(paths: readonly string[]): Promise<Map<string, Span[]>> {
  const spans = new Map<string, Span[]>();
  for (const path of paths) {
    let model: Awaited<ReturnType<typeof openModel>>;
    try {
      model = await openModel(path);
    } catch {
      continue;
    }
    try {
      for (const tensor of model.tensors) {
        // A strided view's bytes are not one contiguous range of the tensor's own.
        if (tensor.strides) continue;
        const origin = fileOrigin(tensor.source);
        if (!origin) continue;
        const start = origin.offset + tensor.offset;
        const list = spans.get(origin.file) ?? [];
        list.push({ start, end: start + tensor.byteLength });
        spans.set(origin.file, list);
      }
    } finally {
      await model.close().catch(() => undefined);
    }
  }
  // Key by real path, as external data sources are named, so callers can look files up one way.
  const real = new Map<string, Span[]>();
  for (const [file, list] of spans) {
    const key = await realpath(file).catch(() => file);
    real.set(key, [...(real.get(key) ?? []), ...list]);
  }
  return real;
}

/** The tensor ranges of one file (its own tensors; an external data file needs its model: use tensorSpans). */
export async function spansOf(path: string, all?: Map<string, Span[]>): Promise<Span[]> {
  const map = all ?? (await tensorSpans([path]));
  return map.get(await realpath(path).catch(() => path)) ?? [];
}
