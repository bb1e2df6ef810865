import { onnx } from '@ferry/formats';
import { inputSpecs, sampleFeeds, tensorValues, toOrtFeeds } from './inputs.js';
import { openSession, runSession } from './runtime.js';
import { readSampleFile } from './sample-data.js';
import { optimizeError } from './errors.js';

export type CalibrationMethod = 'minmax' | 'percentile';
/** onnxruntime's HistogramCalibrater default bin count. */
export const CALIBRATION_BINS = 2048;
export const DEFAULT_PERCENTILE = 99.999;

export interface CalibrationResult {
  readonly ranges: Map<string, { min: number; max: number }>;
  readonly samples: number;
}

/**
 * Runs the original model on the sample inputs with every target activation exposed as an output
 * (as onnxruntime's calibrate.py augments the graph) and returns each activation's range:
 * `minmax` is the observed min and max; `percentile` clips each tail at (100 - p) / 2 percent,
 * found in a 2048-bin histogram over the observed range.
 */
export async function calibrate(
  modelPath: string,
  model: onnx.OnnxModel,
  targets: readonly string[],
  dataPath: string,
  options: { method: CalibrationMethod; percentile?: number | undefined },
): Promise<CalibrationResult> {
  const samples = await readSampleFile(dataPath);
  const feeds = sampleFeeds(inputSpecs(model), samples, dataPath);
  const graph = model.graph!;
  const existing = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const augmented: onnx.OnnxModel = {
    ...model,
    graph: {
      ...graph,
      output: [
        ...(graph.output ?? []),
        ...targets
          .filter((t) => !existing.has(t))
          .map((name) => ({ name, type: { tensor_type: { elem_type: 1 } } })),
      ],
    },
  };
  const session = await openSession(
    onnx.encodeModel(augmented),
    modelPath,
    'load the model for calibration',
    { level: 'disabled' },
  );
  const values = new Map<string, Float64Array[]>();
  let count = 0;
  try {
    for (const feed of feeds) {
      const out = await runSession(session, toOrtFeeds(feed, session), modelPath);
      count += Object.values(feed)[0]?.dims[0] ?? 1;
      for (const t of targets) {
        const tensor = out[t];
        if (!tensor) continue;
        const list = values.get(t) ?? [];
        list.push(tensorValues(tensor));
        values.set(t, list);
      }
    }
  } finally {
    await session.release();
  }
  const ranges = new Map<string, { min: number; max: number }>();
  for (const t of targets) {
    const chunks = values.get(t);
    if (!chunks)
      throw optimizeError('FERRY_OPTIMIZE_DATA', {
        path: dataPath,
        what: `activation ${t}`,
        rule: 'calibration runs did not produce it',
      });
    ranges.set(
      t,
      options.method === 'percentile'
        ? percentileRange(chunks, options.percentile ?? DEFAULT_PERCENTILE)
        : minMax(chunks),
    );
  }
  return { ranges, samples: count };
}

function minMax(chunks: readonly Float64Array[]): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const c of chunks)
    for (const v of c) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  return { min, max };
}

export function percentileRange(
  chunks: readonly Float64Array[],
  percentile: number,
): { min: number; max: number } {
  const { min, max } = minMax(chunks);
  if (!(max > min)) return { min, max };
  const bins = new Float64Array(CALIBRATION_BINS);
  const width = (max - min) / CALIBRATION_BINS;
  let total = 0;
  for (const c of chunks)
    for (const v of c) {
      bins[Math.min(CALIBRATION_BINS - 1, Math.floor((v - min) / width))]!++;
      total++;
    }
  const tail = (total * (100 - percentile)) / 200;
  let lo = 0;
  for (let acc = 0; lo < CALIBRATION_BINS - 1 && acc + bins[lo]! <= tail; lo++) acc += bins[lo]!;
  let hi = CALIBRATION_BINS - 1;
  for (let acc = 0; hi > lo && acc + bins[hi]! <= tail; hi--) acc += bins[hi]!;
  return { min: min + lo * width, max: min + (hi + 1) * width };
}
