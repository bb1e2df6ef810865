/**
 * safetensors reading speed: (a) one tensor from a 256 MB and a 2 GB file (must not grow with
 * the file), (b) every tensor of the 2 GB file as a ratio of `cat FILE > /dev/null` on the same
 * page-cached file (goal >= 0.8). Data files are generated once under bench/.data/ with ferry's
 * own streaming writer from pseudo-random fp32 values, and reused while valid.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ByteSource, TensorRef } from '@ferry/formats';
import {
  DEFAULT_CHUNK_BYTES,
  openSafetensors,
  readTensorBytes,
  readTensorChunks,
  validateSafetensors,
  writeSafetensors,
} from '@ferry/formats';
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
    tensors.push({
      name,
      dtype: 'F32',
      shape,
      source: new PseudoRandomSource(bytes, tensors.length + 1),
      offset: 0,
      byteLength: bytes,
    });
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

/** The same 16 MiB tensor exists in both files. */
const ONE_TENSOR = 'layers.2.mlp.up.weight';

/** Open the file, read one tensor, close: what a server loading one weight pays. */
async function readOne(path: string): Promise<number> {
  const model = await openSafetensors(path);
  try {
    const ref = model.tensors.find((t) => t.name === ONE_TENSOR)!;
    return (await readTensorBytes(ref)).length;
  } finally {
    await model.close();
  }
}

/** Every tensor streamed through one reused 8 MiB buffer (how ferry's writer and diff-free readers stream). */
async function readAllChunks(path: string): Promise<number> {
  const model = await openSafetensors(path);
  const buffer = new Uint8Array(DEFAULT_CHUNK_BYTES);
  let bytes = 0;
  try {
    for (const ref of model.tensors)
      for await (const chunk of readTensorChunks(ref, buffer)) bytes += chunk.length;
  } finally {
    await model.close();
  }
  return bytes;
}

/** Every tensor as its own fresh buffer (readTensorBytes): pays a page fault per 4 KiB of new memory. */
async function readAllWhole(path: string): Promise<number> {
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

  // Interleaved, so machine noise (shared cores) hits every reader alike.
  const catTimes: number[] = [];
  const chunkTimes: number[] = [];
  const wholeTimes: number[] = [];
  const time = async (fn: () => Promise<number>) => {
    const start = process.hrtime.bigint();
    const bytes = await fn();
    if (bytes !== sizeLarge - dataStart) throw new Error(`read ${bytes} bytes of tensor data`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  const dataStart = await (async () => {
    const m = await openSafetensors(large);
    await m.close();
    return m.tensors[0]!.offset;
  })();
  for (let i = 0; i < 7; i++) {
    catTimes.push(shellSeconds(`cat '${large}' > /dev/null`));
    chunkTimes.push(await time(() => readAllChunks(large)));
    wholeTimes.push(await time(() => readAllWhole(large)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cat = median(catTimes);
  const all = median(chunkTimes);
  const whole = median(wholeTimes);
  const gbps = (bytes: number, s: number) => `${(bytes / s / 2 ** 30).toFixed(2)} GiB/s`;

  const body = [
    '### (a) Read one tensor (open, parse and validate the header, read the 16 MiB tensor `layers.2.mlp.up.weight` into a fresh buffer, close)',
    '',
    markdownTable(
      ['file', 'size', 'tensors', 'median of 21'],
      [
        [
          'safetensors-256m',
          `${(sizeSmall / MiB).toFixed(0)} MiB`,
          await countOf(small),
          `${(oneSmall * 1000).toFixed(2)} ms`,
        ],
        [
          'safetensors-2g',
          `${(sizeLarge / MiB).toFixed(0)} MiB`,
          await countOf(large),
          `${(oneLarge * 1000).toFixed(2)} ms`,
        ],
      ],
    ),
    '',
    `2 GB / 256 MB time ratio: ${(oneLarge / oneSmall).toFixed(2)} (file is ${(sizeLarge / sizeSmall).toFixed(1)}x larger; only the header grows).`,
    '',
    '### (b) Read every tensor of the 2 GB file (page-cached), against `cat FILE > /dev/null`',
    '',
    markdownTable(
      ['reader', 'median of 7', 'throughput', 'ratio to cat'],
      [
        ['cat FILE > /dev/null', `${cat.toFixed(3)} s`, gbps(sizeLarge, cat), '1.00'],
        [
          'ferry: readTensorChunks, one reused 8 MiB buffer',
          `${all.toFixed(3)} s`,
          gbps(sizeLarge, all),
          (cat / all).toFixed(2),
        ],
        [
          'ferry: readTensorBytes, a fresh buffer per tensor',
          `${whole.toFixed(3)} s`,
          gbps(sizeLarge, whole),
          (cat / whole).toFixed(2),
        ],
      ],
    ),
    '',
    `ferry (streaming) / cat throughput ratio: **${(cat / all).toFixed(2)}** (goal >= 0.8). cat reads 128 KiB at a time into one`,
    'cache-resident buffer; holding each tensor in fresh memory (readTensorBytes) costs page faults on',
    'every new 4 KiB page, which is why the writer and bulk readers stream chunks through one buffer.',
  ].join('\n');
  writeSection('formats-safetensors', 'formats: safetensors read', 'npm run bench -- formats', body);
  console.log(body);
}
