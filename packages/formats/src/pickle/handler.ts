import { isFerryError } from '../errors.js';
import { describeEstimator } from './estimator/describe.js';
import { classOf, Estimator } from './estimator/state.js';
import type { FormatHandler, OpaqueTensor, OpenedModel, Probe } from '../model.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import { compressedJoblib, compression, looksLikePickle, sniffContainer } from './container.js';
import { inflatedHead } from './compressed-head.js';
import { flattenGraph } from './flatten.js';
import { BufferInput } from './input.js';
import { runPickle } from './machine.js';
import { numpyTensorOf } from './numpy-arrays.js';
import { openScanned } from './open-scanned.js';
import { isUnsafe } from '../verdict.js';
import { renderGraph } from './render.js';
import type { PyCall } from './values.js';
import { joblibHook } from './stream.js';

/** A head that runs as a pickle up to its end (or to STOP) is a pickle. */
function headRunsAsPickle(probe: Probe): boolean {
  if (probe.isDirectory || sniffContainer(probe.head) !== 'pickle' || !looksLikePickle(probe.head))
    return false;
  // "BZh" and "]\0" read as opcodes too, but joblib takes those files for bz2 and lzma.
  if (compression(probe.head)) return false;
  try {
    runPickle(new BufferInput(probe.head, probe.path), 0, { afterBuild: joblibHook([], []) });
    return true;
  } catch (error) {
    // Running out of the probe's bytes is fine; anything else is not a pickle.
    return isFerryError(error) && error.code === 'FERRY_PICKLE_TRUNCATED' && probe.head.length < probe.size;
  }
}

/** A compressed file (zlib, gzip, bz2, lzma, xz, lz4, joblib's ZF) whose data starts like a pickle. */
async function compressedPickle(probe: Probe, joblib: boolean): Promise<boolean> {
  const head = await inflatedHead(probe);
  const name = compression(probe.head);
  return (
    head !== undefined &&
    name !== undefined &&
    looksLikePickle(head) &&
    compressedJoblib(name, head) === joblib
  );
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
    // A fitted scikit-learn / XGBoost / LightGBM estimator: its tree (steps, classes, features, estimators).
    const main = streams[0];
    const root = main?.stream.pickles[0]?.value;
    const cls = root === undefined ? undefined : classOf(root);
    if (main && cls && /^(sklearn|xgboost|lightgbm)\./.test(cls)) {
      const src = { path, input: main.input, arrays: new Map(main.arrays.map((a) => [a.wrapper, a])) };
      details.estimator = describeEstimator(new Estimator(src, root as PyCall));
    }
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
  detect: async (probe) =>
    (headRunsAsPickle(probe) && mentionsJoblib(probe.head)) || (await compressedPickle(probe, true)),
  open: (path, options) => openPickle(path, options.unsafeInspect),
};

/** Any other pickle stream (pickle.dump, NumPy arrays, estimators). */
export const pickleHandler: FormatHandler = {
  name: 'pickle',
  detect: async (probe) => headRunsAsPickle(probe) || (await compressedPickle(probe, false)),
  open: (path, options) => openPickle(path, options.unsafeInspect),
};
