/**
 * The one-core ceiling of the pinned serve benchmark: onnxruntime-node in this process (which the
 * suite starts under `taskset -c CORE`), one intra-op thread, the session options ferry uses,
 * one run after another at each batch size. Prints, as JSON, rows/s and this process's CPU per row
 * for each batch: what the served rows are compared to, and ORT's own CPU per row that the
 * served CPU per request is taken beyond.
 *   node --import tsx bench/lib/ort-ceiling.ts '{"path":"model.onnx","features":1024,"batches":[64],"seconds":2}'
 */
import * as ort from 'onnxruntime-node';

interface Options {
  path: string;
  features: number;
  batches: number[];
  seconds: number;
}
const options = JSON.parse(process.argv[2]!) as Options;

const session = await ort.InferenceSession.create(options.path, {
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
const results: { batch: number; rate: number; cpuUs: number }[] = [];
for (const batch of options.batches) {
  const data = Float32Array.from({ length: batch * options.features }, (_, i) => Math.sin(i));
  const x = new ort.Tensor('float32', data, [batch, options.features]);
  for (let i = 0; i < 3; i++) await session.run({ x });
  let rows = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < options.seconds * 1000) {
    await session.run({ x });
    rows += batch;
  }
  const rate = rows / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpuBefore);
  results.push({ batch, rate, cpuUs: (cpu.user + cpu.system) / rows });
}
await session.release();
process.stdout.write(`${JSON.stringify(results)}\n`);
