/**
 * Bundle speed on a 1 GiB project (one 1 GiB safetensors model, the fixture handler and vocab):
 * `ferry pack` as a ratio of `tar -cf` (and of `tar -cf` + `sync FILE`, as pack fsyncs) on the same files, `ferry unpack` (every digest checked)
 * as a ratio of `tar -xf`, and `ferry sign` / `ferry verify` (hash every entry) as ratios of
 * `sha256sum` of the model. Everything is page-cached; the data is made once under bench/.data/.
 * OCI push/pull and serve-to-ready: bundle-oci.ts.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyFiles, packBundle, signBundle, unpackBundle, verifyBundle } from '@ferry/bundle';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';

const DATA = fileURLToPath(new URL('../.data/bundle/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../fixtures/bundle/', import.meta.url));
const MiB = 2 ** 20;
const MODEL_BYTES = 1024 * MiB;

/** A valid safetensors file: one F32 tensor of pseudo-random values (xorshift32), written in 16 MiB steps. */
function makeModel(path: string): void {
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: 'F32', shape: [MODEL_BYTES / 4], data_offsets: [0, MODEL_BYTES] } }),
  );
  const padded = Buffer.concat([header, Buffer.alloc((8 - (header.length % 8)) % 8, 0x20)]);
  const fd = openSync(path, 'w');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  writeSync(fd, length);
  writeSync(fd, padded);
  const chunk = new Uint32Array((16 * MiB) / 4);
  let x = 2463534242;
  for (let done = 0; done < MODEL_BYTES; done += chunk.byteLength) {
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = (x >>> 0) & 0x3f7fffff; // finite floats
    }
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

export function makeProject(dir: string): void {
  const model = join(dir, 'model/big.safetensors');
  if (existsSync(model) && statSync(model).size > MODEL_BYTES) return;
  mkdirSync(join(dir, 'model'), { recursive: true });
  for (const file of ['handler.mjs', 'vocab.txt', 'README.md'])
    copyFileSync(join(FIXTURE, file), join(dir, file));
  writeFileSync(
    join(dir, 'ferry.yaml'),
    'name: big\nversion: "1"\nmodels:\n  - name: big\n    path: model/big.safetensors\n    format: safetensors\nhandler:\n  module: handler.mjs\ndocs: [README.md]\nfiles: [vocab.txt]\n',
  );
  makeModel(model);
}

export async function run(): Promise<void> {
  const project = join(DATA, 'project');
  makeProject(project);
  const out = join(DATA, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const bundle = join(out, 'big.ferry');
  const files = 'ferry.yaml handler.mjs vocab.txt README.md model/big.safetensors';
  // Warm the page cache once so every contender reads from memory.
  shellSeconds(`cat ${project}/model/big.safetensors > /dev/null`);

  const repeat = 3;
  const pack = await medianSeconds(repeat, () => packBundle(project, { output: bundle }));
  const tarC = await medianSeconds(repeat, () =>
    shellSeconds(`tar -cf ${out}/plain.tar -C ${project} ${files}`),
  );
  // ferry pack fsyncs before the atomic rename; `sync FILE` gives tar the same durability.
  const tarSync = await medianSeconds(repeat, () =>
    shellSeconds(`tar -cf ${out}/plain.tar -C ${project} ${files} && sync ${out}/plain.tar`),
  );
  const keys = await generateKeyFiles(join(out, 'k'));
  const sign = await medianSeconds(repeat, () => signBundle(bundle, keys.privateKey));
  const verify = await medianSeconds(repeat, () => verifyBundle(bundle, keys.publicKey));
  const sha = await medianSeconds(repeat, () =>
    shellSeconds(`sha256sum ${project}/model/big.safetensors > /dev/null`),
  );
  let n = 0;
  const unpack = await medianSeconds(repeat, async () => {
    const target = join(out, `u${n++}`);
    await unpackBundle(bundle, target);
    rmSync(target, { recursive: true, force: true });
  });
  const tarX = await medianSeconds(repeat, () => {
    const target = join(out, `x${n++}`);
    mkdirSync(target);
    shellSeconds(`tar -xf ${out}/plain.tar -C ${target}`);
    rmSync(target, { recursive: true, force: true });
  });
  const size = statSync(bundle).size;
  const gbps = (s: number) => (size / s / 1e9).toFixed(2);
  const rows = [
    [
      'ferry pack (scan, hash, tar, fsync)',
      pack.toFixed(2),
      gbps(pack),
      `${(pack / tarSync).toFixed(2)} x tar -cf + sync, ${(pack / tarC).toFixed(2)} x tar -cf`,
    ],
    ['tar -cf + sync FILE', tarSync.toFixed(2), gbps(tarSync), '1.00'],
    ['tar -cf', tarC.toFixed(2), gbps(tarC), '-'],
    ['ferry sign (hash every entry)', sign.toFixed(2), gbps(sign), `${(sign / sha).toFixed(2)} x sha256sum`],
    ['ferry verify', verify.toFixed(2), gbps(verify), `${(verify / sha).toFixed(2)} x sha256sum`],
    ['sha256sum model', sha.toFixed(2), gbps(sha), '1.00'],
    [
      'ferry unpack (digests checked)',
      unpack.toFixed(2),
      gbps(unpack),
      `${(unpack / tarX).toFixed(2)} x tar -xf`,
    ],
    ['tar -xf', tarX.toFixed(2), gbps(tarX), '1.00'],
  ];
  writeSection(
    'bundle',
    'Bundles: pack, sign, verify, unpack (1 GiB)',
    'npm run bench -- bundle',
    `A project with one ${MODEL_BYTES / MiB} MiB safetensors model (bundle ${(size / MiB).toFixed(0)} MiB), page-cached; median of ${repeat}. Ratios are ferry's time over the baseline's (lower is better).\n\n${markdownTable(['operation', 'seconds', 'GB/s', 'ratio'], rows)}`,
  );
  rmSync(out, { recursive: true, force: true });
}
