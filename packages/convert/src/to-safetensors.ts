import {
  type OpenedModel,
  type OpenOptions,
  openModel,
  type WriteProgress,
  writeSafetensors,
  type TensorRef,
} from './formats.js';
import { convertError } from './errors.js';

export interface ConvertOptions extends OpenOptions {
  readonly onProgress?: (progress: WriteProgress) => void;
}

export interface ConvertResult {
  readonly input: string;
  readonly output: string;
  readonly format: string;
  /** Tensors written (shared ones once). */
  readonly tensors: number;
  /** Tensor data bytes written. */
  readonly bytes: number;
  readonly fileBytes: number;
  /** Names left out because they share another tensor's bytes: name -> the name that was kept. */
  readonly shared: Readonly<Record<string, string>>;
}

/** At most this many opaque tensor names in one error line; the rest are counted. */
const MAX_NAMES_IN_ERROR = 10;

/** Opens any model ferry reads and writes its tensors as one safetensors file. */
export async function convertToSafetensors(
  inPath: string,
  outPath: string,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  const model = await openModel(inPath, options);
  try {
    return await writeModelAsSafetensors(model, outPath, options);
  } finally {
    await model.close();
  }
}

/**
 * The format-neutral half of convert: an opened model's tensors to safetensors.
 *
 * Tied weights: safetensors cannot say two names share storage, so, like the safetensors
 * project's convert.py (`_remove_duplicate_names`), a group of names with identical bytes is
 * written once under the first name in sorted order, and every other name is recorded in
 * `__metadata__` as `removed name -> kept name` (unless the source metadata already uses that
 * key). Only exact aliases count (same source, offset, dtype, shape, strides and byte order):
 * partial views of a shared buffer are distinct tensors and are written in full.
 */
export async function writeModelAsSafetensors(
  model: OpenedModel,
  outPath: string,
  options: Pick<ConvertOptions, 'onProgress'> = {},
): Promise<ConvertResult> {
  const opaque = model.opaque ?? [];
  if (opaque.length > 0) {
    const names = opaque.slice(0, MAX_NAMES_IN_ERROR).map((t) => `${t.name} (${t.type}: ${t.reason})`);
    if (opaque.length > MAX_NAMES_IN_ERROR) names.push(`and ${opaque.length - MAX_NAMES_IN_ERROR} more`);
    throw convertError('FERRY_CONVERT_OPAQUE', {
      path: model.path,
      count: opaque.length,
      names: names.join(', '),
    });
  }
  const { kept, shared } = dedupeShared(model.tensors);
  const metadata: Record<string, string> = { ...model.metadata };
  // convert.py marks PyTorch-born files so transformers loads them as `pt`.
  if ((model.format === 'pytorch' || model.format === 'pytorch-legacy') && !('format' in metadata)) {
    metadata.format = 'pt';
  }
  for (const [removed, keptName] of Object.entries(shared)) {
    if (!(removed in metadata)) metadata[removed] = keptName;
  }
  const hasMetadata = Object.keys(metadata).length > 0;
  const written = await writeSafetensors(outPath, kept, hasMetadata ? metadata : undefined, {
    onProgress: options.onProgress,
  });
  return {
    input: model.path,
    output: outPath,
    format: model.format,
    tensors: written.tensors,
    bytes: written.dataBytes,
    fileBytes: written.fileBytes,
    shared,
  };
}

function aliasKey(ref: TensorRef): string {
  return JSON.stringify([ref.offset, ref.dtype, ref.shape, ref.strides ?? null, ref.byteOrder ?? 'little']);
}

/** Groups exact aliases; keeps the first name of each group in sorted (byte) order. */
export function dedupeShared(tensors: readonly TensorRef[]): {
  kept: TensorRef[];
  shared: Record<string, string>;
} {
  const groups = new Map<object, Map<string, TensorRef[]>>();
  for (const ref of tensors) {
    let bySource = groups.get(ref.source);
    if (!bySource) groups.set(ref.source, (bySource = new Map()));
    // Empty tensors hold no bytes to share: each stays its own tensor.
    const key = ref.byteLength === 0 ? `empty:${ref.name}` : aliasKey(ref);
    const group = bySource.get(key);
    if (group) group.push(ref);
    else bySource.set(key, [ref]);
  }
  const keptSet = new Set<TensorRef>();
  const shared: Record<string, string> = {};
  for (const bySource of groups.values()) {
    for (const group of bySource.values()) {
      const sorted = [...group].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
      const [first, ...rest] = sorted as [TensorRef, ...TensorRef[]];
      keptSet.add(first);
      for (const other of rest) shared[other.name] = first.name;
    }
  }
  return { kept: tensors.filter((t) => keptSet.has(t)), shared };
}
