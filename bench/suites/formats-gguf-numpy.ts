/**
 * GGUF and NumPy reading: how much of a file `inspect` touches, and how fast tensors come out
 * compared with NumPy itself on the same page-cached file. Data is generated under bench/.data/.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { type ByteSource, FileSource, gguf, openModel, readTensorBytes } from '@ferry/formats';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';

const DATA = new URL('../.data/', import.meta.url).pathname;
const VOCAB = 256_000;
const GGUF_TENSOR_BYTES = 256 * 2 ** 20;

/** A GGUF v3 file with a Gemma-sized vocabulary and one big F32 tensor, written by the spec. */
function writeBigGguf(path: string): void {
  const chunks: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    chunks.push(b);
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    chunks.push(b);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    u64(b.length);
    chunks.push(b);
  };
  chunks.push(Buffer.from('GGUF'));
  u32(3);
  u64(1);
  u64(4);
  str('general.architecture');
  u32(8);
  str('bench');
  str('tokenizer.ggml.tokens');
  u32(9);
  u32(8);
  u64(VOCAB);
  for (let i = 0; i < VOCAB; i++) str(`▁token${i}`);
  str('tokenizer.ggml.scores');
  u32(9);
  u32(6);
  u64(VOCAB);
  chunks.push(Buffer.alloc(VOCAB * 4));
  str('tokenizer.ggml.merges');
  u32(9);
  u32(8);
  u64(VOCAB);
  for (let i = 0; i < VOCAB; i++) str(`▁t ok${i}`);
  const rows = GGUF_TENSOR_BYTES / 4 / 4096;
  str('token_embd.weight');
  u32(2);
  u64(4096);
  u64(rows);
  u32(0);
  u64(0);
  let header = Buffer.concat(chunks);
  header = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32)]);
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  const block = Buffer.alloc(16 * 2 ** 20, 1);
  for (let done = 0; done < GGUF_TENSOR_BYTES; done += block.length) writeSync(fd, block);
  closeSync(fd);
}

/** Counts the bytes a reader asks for. */
class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(private readonly inner: ByteSource) {}
  get name() {
    return this.inner.name;
  }
  get size() {
    return this.inner.size;
  }
  async read(offset: number, length: number) {
    this.bytesRead += length;
    return this.inner.read(offset, length);
  }
  close() {
    return this.inner.close();
  }
}

function python(script: string): string {
  return execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim();
}

export async function run(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const rows: (string | number)[][] = [];

  const ggufPath = `${DATA}vocab-256k.gguf`;
  if (!existsSync(ggufPath)) writeBigGguf(ggufPath);
  const source = await FileSource.open(ggufPath);
  const counting = new CountingSource(source);
  const parse = await medianSeconds(5, () => gguf.readGguf(counting));
  const once = new CountingSource(source);
  const file = await gguf.readGguf(once);
  await source.close();
  rows.push([
    `GGUF header: ${VOCAB} tokens + ${VOCAB} merges (${(file.dataOffset / 2 ** 20).toFixed(1)} MiB header, ${(source.size / 2 ** 20).toFixed(0)} MiB file)`,
    `${(parse * 1000).toFixed(0)} ms`,
    `${(once.bytesRead / 2 ** 20).toFixed(1)} MiB read of ${(source.size / 2 ** 20).toFixed(0)} MiB`,
  ]);

  const npyPath = `${DATA}f32-256m.npy`;
  const fortranPath = `${DATA}f32-fortran-32m.npy`;
  if (!existsSync(npyPath) || !existsSync(fortranPath)) {
    python(
      `import numpy as np; np.save('${npyPath}', np.arange(64*2**20, dtype='<f4').reshape(8192, -1)); ` +
        `np.save('${fortranPath}', np.asfortranarray(np.arange(8*2**20, dtype='<f4').reshape(2048, -1)))`,
    );
  }
  const cat = Math.min(
    shellSeconds(`cat ${npyPath} > /dev/null`),
    shellSeconds(`cat ${npyPath} > /dev/null`),
  );
  const model = await openModel(npyPath);
  const ferry = await medianSeconds(5, () => readTensorBytes(model.tensors[0]!));
  await model.close();
  const numpyLoad = Number(
    python(
      `import numpy as np, time\nts=[]\nfor _ in range(5):\n  t=time.perf_counter(); np.load('${npyPath}'); ts.append(time.perf_counter()-t)\nprint(sorted(ts)[2])`,
    ),
  );
  rows.push([
    '.npy 256 MiB F32, C order: ferry readTensorBytes vs numpy.load (same cached file)',
    `${(ferry * 1000).toFixed(0)} ms vs ${(numpyLoad * 1000).toFixed(0)} ms`,
    `ferry/numpy time ${(ferry / numpyLoad).toFixed(2)}; cat ${(cat * 1000).toFixed(0)} ms`,
  ]);

  const fortran = await openModel(fortranPath);
  const gather = await medianSeconds(3, () => readTensorBytes(fortran.tensors[0]!));
  await fortran.close();
  const numpyC = Number(
    python(
      `import numpy as np, time\nts=[]\nfor _ in range(3):\n  t=time.perf_counter(); np.ascontiguousarray(np.load('${fortranPath}')); ts.append(time.perf_counter()-t)\nprint(sorted(ts)[1])`,
    ),
  );
  rows.push([
    '.npy 32 MiB F32, Fortran order -> C order: ferry strided gather vs numpy.load + ascontiguousarray',
    `${(gather * 1000).toFixed(0)} ms vs ${(numpyC * 1000).toFixed(0)} ms`,
    `ferry/numpy time ${(gather / numpyC).toFixed(1)}`,
  ]);

  writeSection(
    'formats-gguf-numpy',
    'GGUF and NumPy reading',
    'npm run bench -- formats',
    markdownTable(['what', 'time (median)', 'note'], rows),
  );
}
