import { isFerryError } from '../errors.js';
import type { FormatHandler, OpaqueTensor, OpenedModel, Probe } from '../model.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import { compression, decompress, looksLikePickle, sniffContainer } from './container.js';
import { flattenGraph } from './flatten.js';
import { BufferInput } from './input.js';
import { runPickle } from './machine.js';
import { numpyTensorOf } from './numpy-arrays.js';
import { openScanned } from './open-scanned.js';
import { isUnsafe } from './policy.js';
import { renderGraph } from './render.js';
import { joblibHook } from './stream.js';

/** A head that runs as a pickle up to its end (or to STOP) is a pickle. */
function headRunsAsPickle(probe: Probe): boolean {
  if (probe.isDirectory || sniffContainer(probe.head) !== 'pickle' || !looksLikePickle(probe.head))
    return false;
  try {
    runPickle(new BufferInput(probe.head, probe.path), 0, { afterBuild: joblibHook([], []) });
    return true;
  } catch (error) {
    // Running out of the probe's bytes is fine; anything else is not a pickle.
    return isFerryError(error) && error.code === 'FERRY_PICKLE_TRUNCATED' && probe.head.length < probe.size;
  }
}

/** A compressed joblib file: its first bytes inflate to a pickle that mentions joblib. */
function compressedJoblib(probe: Probe): boolean {
  const kind = compression(probe.head);
  if (!kind || probe.isDirectory) return false;
  try {
    const head = decompress(kind, probe.head, probe.path, true).subarray(0, 4096);
    return looksLikePickle(head) && mentionsJoblib(head);
  } catch (error) {
    if (isFerryError(error)) return false;
    throw error;
  }
}

function mentionsJoblib(head: Uint8Array): boolean {
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes('NumpyArrayWrapper');
}

async function openPickle(path: string, unsafeInspect: boolean | undefined): Promise<OpenedModel> {
  const { source, scan, close } = await openScanned(path, unsafeInspect);
  try {
    const tensors: TensorRef[] = [];
    const opaque: OpaqueTensor[] = [];
    const details: Record<string, unknown> = {};
    const streams = scan.streams.filter((s) => s.member === '' || s.member.startsWith('('));
    const values: Record<string, unknown> = {};
    const objects: string[] = [];
    let pickles = 0;
    for (const s of streams) {
      const tensorOf = numpyTensorOf(scan.payload ?? source, s.arrays);
      s.stream.pickles.forEach((p, i) => {
        pickles++;
        const flat = flattenGraph(p.value, tensorOf, path, s.stream.pickles.length > 1 ? `pickle${i}` : '');
        tensors.push(...flat.tensors);
        opaque.push(...flat.opaque);
        Object.assign(values, flat.values);
        objects.push(...flat.objects.map((o) => `${o.name}: ${o.class} (${o.attributes.join(', ')})`));
      });
    }
    details.pickles = pickles;
    // For a file opened despite findings (--unsafe-inspect): what loading it would do, as text.
    if (isUnsafe(scan.findings)) {
      details.graph = streams.flatMap((st) => st.stream.pickles.map((p) => renderGraph(p.value)));
    }
    details.protocol = streams[0]?.stream.pickles[0]?.protocol ?? 0;
    if (objects.length > 0) details.objects = objects;
    if (Object.keys(values).length > 0) details.values = values;
    return {
      format: scan.format === 'joblib' ? 'joblib' : 'pickle',
      path,
      tensors,
      ...(opaque.length > 0 && { opaque }),
      metadata: {},
      details,
      findings: scan.findings,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** joblib.dump files: a pickle with NumpyArrayWrapper arrays inline. */
export const joblibHandler: FormatHandler = {
  name: 'joblib',
  detect: (probe) => (headRunsAsPickle(probe) && mentionsJoblib(probe.head)) || compressedJoblib(probe),
  open: (path, options) => openPickle(path, options.unsafeInspect),
};

/** Any other pickle stream (pickle.dump, NumPy arrays, estimators). */
export const pickleHandler: FormatHandler = {
  name: 'pickle',
  detect: (probe) => headRunsAsPickle(probe),
  open: (path, options) => openPickle(path, options.unsafeInspect),
};
