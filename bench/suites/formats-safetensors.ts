/**
 * safetensors reading speed: (a) one tensor from a 256 MB and a 2 GB file (must not grow with
 * the file), (b) every tensor of the 2 GB file as a ratio of `cat FILE > /dev/null` on the same
 * page-cached file (goal >= 0.8). Data files are generated once under bench/.data/ with ferry's
 * own streaming writer from pseudo-random fp32 values, and reused while valid.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ByteSource, TensorRef } from '../../packages/formats/src/index.js';
import {
  openSafetensors,
  readTensorBytes,
  validateSafetensors,
  writeSafetensors,
} from '../../packages/formats/src/index.js';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';

const DATA = fileURLToPath(new URL('../.data/', import.meta.url));
const MiB = 2 ** 20;

/** Deterministic pseudo-random float32 values in [-1, 1), made on demand: nothing is held. */
class PseudoRandomSource implements ByteSource {
  readonly name: string;
  constructor(
    readonly size: number,
    private readonly seed: number,
  ) {
    this.name = `<random ${seed}>`;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Float32Array(length / 4);
    let x = (this.seed * 2654435761 + offset) >>> 0 || 1;
    for (let i = 0; i < out.length; i++) {
      // xorshift32
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = (x >>> 0) / 2 ** 31 - 1;
    }
    return new Uint8Array(out.buffer);
  }
  async close(): Promise<void> {}
}

/** A transformer-like layout: per layer four 1024x1024 attention weights, two 1024x4096 MLP weights, norms. */
function layout(targetBytes: number): TensorRef[] {
  const tensors: TensorRef[] = [];
  const add = (name: string, shape: number[]) => {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    tensors.push({ name, dtype: 'F32', shape, source: new PseudoRandomSource(bytes, tensors.length + 1), offset: 0, byteLength: bytes });
    return bytes;
  };
  let total = add('embed.weight', [8192, 1024]);
  for (let layer = 0; total < targetBytes; layer++) {
    const p = `layers.${layer}`;
    for (const w of ['q', 'k', 'v', 'o']) total += add(`${p}.attn.${w}.weight`, [1024, 1024]);
    total += add(`${p}.mlp.up.weight`, [4096, 1024]);
    total += add(`${p}.mlp.down.weight`, [1024, 4096]);
    total += add(`${p}.norm1.weight`, [1024]);
    total += add(`${p}.norm2.weight`, [1024]);
  }
  return tensors;
}

async function ensureFile(name: string, targetBytes: number): Promise<string> {
  const path = `${DATA}${name}`;
  if (existsSync(path) && (await validateSafetensors(path)).valid) return path;
  mkdirSync(DATA, { recursive: true });
  console.log(`bench: generating ${path} (${(targetBytes / MiB).toFixed(0)} MiB)`);
  await writeSafetensors(path, layout(targetBytes), { generator: 'bench/suites/formats-safetensors.ts' });
  return path;
}

/** Open the file, read one tensor from the middle, close: what a server loading one weight pays. */
async function readOne(path: string): Promise<number> {
  const model = await openSafetensors(path);
  try {
    const ref = model.tensors[Math.floor(model.tensors.length / 2)]!;
    return (await readTensorBytes(ref)).length;
  } finally {
    await model.close();
  }
}

async function readAll(path: string): Promise<number> {
  const model = await openSafetensors(path);
  let bytes = 0;
  try {
    for (const ref of model.tensors) bytes += (await readTensorBytes(ref)).length;
  } finally {
    await model.close();
  }
  return bytes;
}

export async function run(): Promise<void> {
  const small = await ensureFile('safetensors-256m.safetensors', 256 * MiB);
  const large = await ensureFile('safetensors-2g.safetensors', 2048 * MiB);
  const sizeSmall = statSync(small).size;
  const sizeLarge = statSync(large).size;
  const countOf = async (path: string) => {
    const m = await openSafetensors(path);
    await m.close();
    return m.tensors.length;
  };

  // Page-cache both files so every measurement reads from memory, like the cat baseline.
  shellSeconds(`cat '${small}' > /dev/null; cat '${large}' > /dev/null`);
  await readOne(small);
  await readOne(large);
  const oneSmall = await medianSeconds(21, () => readOne(small));
  const oneLarge = await medianSeconds(21, () => readOne(large));

  const catTimes: number[] = [];
  const allTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    catTimes.push(shellSeconds(`cat '${large}' > /dev/null`));
    const start = process.hrtime.bigint();
    await readAll(large);
    allTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cat = median(catTimes);
  const all = median(allTimes);
  const gbps = (bytes: number, s: number) => `${(bytes / s / 2 ** 30).toFixed(2)} GiB/s`;

  const body = [
    '### (a) Read one tensor (open, parse and validate the header, read one 16 MiB tensor, close)',
    '',
    markdownTable(
      ['file', 'size', 'tensors', 'median of 21'],
      [
        ['safetensors-256m', `${(sizeSmall / MiB).toFixed(0)} MiB`, await countOf(small), `${(oneSmall * 1000).toFixed(2)} ms`],
        ['safetensors-2g', `${(sizeLarge / MiB).toFixed(0)} MiB`, await countOf(large), `${(oneLarge * 1000).toFixed(2)} ms`],
      ],
    ),
    '',
    `2 GB / 256 MB time ratio: ${(oneLarge / oneSmall).toFixed(2)} (file is ${(sizeLarge / sizeSmall).toFixed(1)}x larger; only the header grows).`,
    '',
    '### (b) Read every tensor of the 2 GB file (page-cached), against `cat FILE > /dev/null`',
    '',
    markdownTable(
      ['reader', 'median of 5', 'throughput'],
      [
        ['cat FILE > /dev/null', `${cat.toFixed(3)} s`, gbps(sizeLarge, cat)],
        ['ferry: readTensorBytes for every tensor', `${all.toFixed(3)} s`, gbps(sizeLarge, all)],
      ],
    ),
    '',
    `ferry / cat throughput ratio: **${(cat / all).toFixed(2)}** (goal >= 0.8).`,
  ].join('\n');
  writeSection('formats-safetensors', 'formats: safetensors read', 'npm run bench -- formats', body);
  console.log(body);
}
