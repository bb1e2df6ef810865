/**
 * formats-onnx: extract every initializer of a ~500 MB ONNX model to a safetensors-layout file,
 * ferry vs the python onnx package (onnx.load + onnx.numpy_helper.to_array), in one run on the
 * same page-cached file. Both write the same bytes (checked by sha256).
 *
 * The safetensors writer is another helper's work; until it is merged this suite writes with its
 * own small sequential writer (below), the same layout the python side writes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openModel, readTensorBytes, type TensorRef, writeAll } from '@ferry/formats';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const data = `${root}bench/.data`;
const model = `${data}/onnx-500mb.onnx`;
const ferryOut = `${data}/onnx-500mb.ferry.safetensors`;
const pythonOut = `${data}/onnx-500mb.python.safetensors`;
const PYTHON = '/usr/bin/python3';
const REPEAT = 3;

/** safetensors layout: u64 LE header length, JSON header padded with spaces to 8 bytes, data. */
async function writeSafetensorsLayout(path: string, tensors: readonly TensorRef[]): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  const file = await open(path, 'w');
  try {
    await writeAll(file, head);
    await writeAll(file, Buffer.from(text));
    for (const t of tensors) await writeAll(file, await readTensorBytes(t));
  } finally {
    await file.close();
  }
}

let extracted = 0;

async function ferryExtract(): Promise<void> {
  const opened = await openModel(model);
  extracted = opened.tensors.length;
  try {
    await writeSafetensorsLayout(ferryOut, opened.tensors);
  } finally {
    await opened.close();
  }
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export async function run(): Promise<void> {
  mkdirSync(data, { recursive: true });
  if (!existsSync(model)) {
    console.log('formats-onnx: writing a ~500 MB ONNX model with python onnx (cached in bench/.data/)');
    execFileSync(PYTHON, [`${root}bench/make_onnx_model.py`, model], { stdio: 'inherit' });
  }
  const size = statSync(model).size;
  shellSeconds(`cat '${model}' > /dev/null`); // page-cache the model for both sides

  const ferrySeconds = await medianSeconds(REPEAT, ferryExtract);
  const pythonInProcess: number[] = [];
  const pythonWall = await medianSeconds(REPEAT, () => {
    const out = execFileSync(PYTHON, [`${root}bench/extract_onnx_python.py`, model, pythonOut], {
      encoding: 'utf8',
    });
    pythonInProcess.push(Number(out.trim()));
  });
  pythonInProcess.sort((a, b) => a - b);
  const pythonSeconds = pythonInProcess[Math.floor(pythonInProcess.length / 2)]!;

  const same = sha256(ferryOut) === sha256(pythonOut);
  if (!same) throw new Error('formats-onnx: ferry and python wrote different bytes');
  const outSize = statSync(ferryOut).size;
  rmSync(ferryOut);
  rmSync(pythonOut);

  const mb = (s: number) => (size / 2 ** 20 / s).toFixed(0);
  const body = [
    `Extract all ${extracted} initializers (F32 1280x1280) of a ${(size / 2 ** 20).toFixed(0)} MiB ONNX model made by`,
    '`bench/make_onnx_model.py` (python onnx, raw_data) to a safetensors-layout file of',
    `${(outSize / 2 ** 20).toFixed(0)} MiB. Python: \`bench/extract_onnx_python.py\` (onnx.load, then`,
    'onnx.numpy_helper.to_array per initializer, same header, same bytes: the two outputs have the same sha256).',
    'ferry: `openModel` + `readTensorBytes` (raw_data stays a zero-copy view of the file read once).',
    "ferry's side writes with a small sequential writer inside this suite, because the safetensors",
    "writer is another helper's work and not merged yet. Median of",
    `${REPEAT} runs each, model page-cached, output to the same disk.`,
    '',
    markdownTable(
      ['what', 'seconds', 'MiB/s of model', 'python / ferry'],
      [
        ['ferry (in process)', ferrySeconds.toFixed(3), mb(ferrySeconds), '1.00'],
        [
          'python onnx (in process, incl. import onnx)',
          pythonSeconds.toFixed(3),
          mb(pythonSeconds),
          (pythonSeconds / ferrySeconds).toFixed(2),
        ],
        [
          'python onnx (process wall clock)',
          pythonWall.toFixed(3),
          mb(pythonWall),
          (pythonWall / ferrySeconds).toFixed(2),
        ],
      ],
    ),
    '',
    `Ratio (python wall clock / ferry): **${(pythonWall / ferrySeconds).toFixed(2)}x**; above 1 means ferry is faster.`,
  ].join('\n');
  writeSection(
    'formats-onnx',
    'ONNX: extract initializers (500 MB model) vs python onnx',
    'npm run bench -- formats',
    body,
  );
  console.log(body);
}
