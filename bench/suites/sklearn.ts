/**
 * scikit-learn models served through ferry's ONNX conversion: rows/s (a 10,000-row batch) and
 * single-row latency of the converted model in onnxruntime-node, against sklearn's own
 * predict_proba on the same rows in Debian's python3, side by side in one run. Models (a
 * 100-tree RandomForest, a 100-stage GradientBoosting, a StandardScaler + PCA +
 * LogisticRegression Pipeline) are generated into bench/.data/sklearn by the baseline script.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertSklearnToOnnx } from '@ferry/convert';
import { markdownTable, medianSeconds, writeSection } from '../lib/report.js';

const DATA = new URL('../.data/sklearn/', import.meta.url).pathname;
const BASELINE = new URL('./sklearn/sklearn-baseline.py', import.meta.url).pathname;
const PY = '/usr/bin/python3';
const FEATURES = 20;
const MODELS = [
  ['random_forest', 'RandomForestClassifier, 100 trees, depth 10'],
  ['gradient_boosting', 'GradientBoostingClassifier, 100 stages x 3 classes, depth 3'],
  ['pipeline', 'Pipeline: StandardScaler + PCA(10) + LogisticRegression'],
] as const;

export async function run(): Promise<void> {
  if (!existsSync(join(DATA, 'rows.f32'))) execFileSync(PY, [BASELINE, 'make', DATA], { stdio: 'inherit' });
  const sklearn = JSON.parse(
    execFileSync(PY, [BASELINE, 'time', DATA], { encoding: 'utf8', maxBuffer: 256 << 20 }),
  ) as Record<string, { rows_per_s: number; single_ms: number; labels: number[]; probabilities: number[] }>;
  const raw = readFileSync(join(DATA, 'rows.f32'));
  const rows = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const n = rows.length / FEATURES;
  const table: (string | number)[][] = [];
  for (const [name, title] of MODELS) {
    const path = join(DATA, `${name}.joblib`);
    let conversion: Awaited<ReturnType<typeof convertSklearnToOnnx>> | undefined;
    const convertS = await medianSeconds(3, async () => {
      conversion = await convertSklearnToOnnx(path);
    });
    const session = await ort.InferenceSession.create(conversion!.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const batch = new ort.Tensor('float32', rows, [n, FEATURES]);
    const one = new ort.Tensor('float32', rows.slice(0, FEATURES), [1, FEATURES]);
    const out = await session.run({ input: batch });
    // Same answers on every bench row: labels equal, the largest probability difference.
    const base = sklearn[name]!;
    const labels = Array.from(out.label!.data as BigInt64Array, Number);
    const same = labels.filter((l, i) => l === base.labels[i]).length;
    const probs = out.probabilities!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < probs.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(probs[i]! - base.probabilities[i]!));
    const batchS = await medianSeconds(3, () => session.run({ input: batch }));
    for (let i = 0; i < 20; i++) await session.run({ input: one });
    const singleS = await medianSeconds(200, () => session.run({ input: one }));
    table.push([
      title,
      `${(convertS * 1000).toFixed(0)} ms`,
      Math.round(n / batchS).toLocaleString('en-US'),
      Math.round(base.rows_per_s).toLocaleString('en-US'),
      `${(singleS * 1000).toFixed(3)} ms`,
      `${base.single_ms.toFixed(3)} ms`,
      `${same.toLocaleString('en-US')}/${n.toLocaleString('en-US')}`,
      maxDiff.toExponential(1),
    ]);
    await session.release();
  }
  const body = [
    `${n.toLocaleString('en-US')} rows x ${FEATURES} float features; ferry = the converted ONNX in onnxruntime-node (1 thread), sklearn = \`predict_proba\` in Debian's python3 (sklearn 1.2, NumPy, one process). Single-row latency is the median of 200 calls. The last two columns compare both sides' answers on every row. The 2-core machine is shared with other jobs (load average near 10 during runs): rows/s varied up to 2x between runs, the answers never.`,
    '',
    markdownTable(
      [
        'model',
        'convert',
        'ferry ONNX rows/s',
        'sklearn rows/s',
        'ferry ONNX 1 row',
        'sklearn 1 row',
        'labels equal',
        'max abs Δp',
      ],
      table,
    ),
  ].join('\n');
  writeSection('sklearn', 'scikit-learn models as ONNX vs sklearn predict', 'npm run bench -- sklearn', body);
  console.log(body);
}
