/**
 * TensorBundle reading: how fast ferry opens a variables.index and reads every variable with its
 * crc32c checked, against `cat` of the same page-cached data file. The bundle is generated here
 * (bench/.data/savedmodel/, git-ignored) in TensorFlow's layout.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protobuf, readTensorBytes, savedmodel } from '@ferry/formats';
// the SSTable writer is a test helper of formats (formats only reads tables); see architecture.test.ts KNOWN
import { buildTable } from '../../scripts/test/sstable-builder.js';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';

const { encodeMessage } = protobuf;
const { crc32c, crc32cMask, openTensorBundle, shardFileName } = savedmodel;
const { BundleEntryProto, BundleHeaderProto } = savedmodel.savedModelProtos;

const DIR = fileURLToPath(new URL('../.data/savedmodel/', import.meta.url));
const VARIABLES = 2048;
const FLOATS = 32 * 1024; // 128 KiB per variable, 256 MiB in all

function generate(prefix: string): void {
  if (existsSync(`${prefix}.index`)) return;
  mkdirSync(DIR, { recursive: true });
  const fd = openSync(shardFileName(prefix, 0, 1), 'w');
  const encoder = new TextEncoder();
  const entries: [Uint8Array, Uint8Array][] = [
    [new Uint8Array(0), encodeMessage(BundleHeaderProto, { num_shards: 1, version: { producer: 1 } })],
  ];
  const values = new Float32Array(FLOATS);
  const names = Array.from(
    { length: VARIABLES },
    (_, i) => `model/layer_${String(i).padStart(5, '0')}/kernel/.ATTRIBUTES/VARIABLE_VALUE`,
  ).sort();
  let offset = 0;
  for (const [i, name] of names.entries()) {
    for (let j = 0; j < FLOATS; j++) values[j] = Math.sin(i * FLOATS + j);
    const bytes = new Uint8Array(values.buffer);
    writeSync(fd, bytes);
    entries.push([
      encoder.encode(name),
      encodeMessage(BundleEntryProto, {
        dtype: 1,
        shape: { dim: [{ size: 256n }, { size: BigInt(FLOATS / 256) }] },
        offset: BigInt(offset),
        size: BigInt(bytes.length),
        crc32c: crc32cMask(crc32c(bytes)),
      }),
    ]);
    offset += bytes.length;
  }
  closeSync(fd);
  writeFileSync(`${prefix}.index`, buildTable(entries, { blockEntries: 40 }));
}

export async function run(): Promise<void> {
  const prefix = `${DIR}variables`;
  generate(prefix);
  const data = shardFileName(prefix, 0, 1);
  shellSeconds(`cat '${data}' > /dev/null`); // warm the page cache
  // Through a pipe: coreutils' `cat FILE > /dev/null` hands the copy to the kernel (sys time ~0),
  // so it reads nothing into user memory and is no baseline for a reader that must.
  const cat = await medianSeconds(3, () => shellSeconds(`cat '${data}' | wc -c > /dev/null`));
  const open = await medianSeconds(5, async () => (await openTensorBundle(prefix)).close());
  const readAll = await medianSeconds(3, async () => {
    const bundle = await openTensorBundle(prefix);
    try {
      for (const t of bundle.tensors) await readTensorBytes(t);
    } finally {
      await bundle.close();
    }
  });
  const buffer = new Uint8Array(64 * 2 ** 20).fill(7);
  const crc = await medianSeconds(3, () => crc32c(buffer));
  const mib = (VARIABLES * FLOATS * 4) / 2 ** 20;
  writeSection(
    'savedmodel-bundle',
    'SavedModel: TensorBundle variables',
    'npm run bench -- savedmodel',
    markdownTable(
      ['measure', 'result'],
      [
        [`open variables.index (${VARIABLES} entries)`, `${(open * 1000).toFixed(1)} ms`],
        [`read every variable, crc32c checked (${mib} MiB)`, `${(mib / readAll).toFixed(0)} MiB/s`],
        ['crc32c alone (slicing-by-8, in memory)', `${(64 / crc).toFixed(0)} MiB/s`],
        ['`cat FILE \\| wc -c` of the same data file (page-cached)', `${(mib / cat).toFixed(0)} MiB/s`],
        ['ratio read / cat', (cat / readAll).toFixed(2)],
      ],
    ),
  );
}
