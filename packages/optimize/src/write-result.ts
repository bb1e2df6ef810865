import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ferryError, moveIntoPlace, onnx, writeAll } from '@ferry/formats';
import { openSession } from './runtime.js';
import { optimizeError } from './errors.js';

type OnnxModel = onnx.OnnxModel;

/** Tensors smaller than this stay inside the model with external data (onnx's size_threshold). */
export const EXTERNAL_DATA_THRESHOLD = 1024;

export interface WrittenResult {
  readonly path: string;
  /** OUT.onnx.data, when tensors went to external data. */
  readonly dataPath?: string;
  /** Model plus data file. */
  readonly bytes: number;
}

/**
 * Checks a transformed model and writes it. The checks come first: the structural check, then
 * onnxruntime must load it, then `beforeCommit` (verification) runs on the finished file(s).
 * Everything is written in a hidden temp folder beside `outPath` and renamed into place only
 * after every check passed, so a failure leaves no output. Tensors of 1 KiB and more go to
 * `OUT.onnx.data` (4 KiB aligned, as onnx writes it) with `externalData`, or when the model would
 * pass protobuf's 2 GB limit.
 */
export async function writeResult(
  model: OnnxModel,
  outPath: string,
  what: string,
  options: {
    externalData?: boolean;
    beforeCommit?: (modelPath: string) => Promise<void>;
    /** Lower to test the automatic switch to external data. */
    maxModelBytes?: number;
  } = {},
): Promise<WrittenResult> {
  const problem = onnx.checkModel(model)[0];
  if (problem)
    throw optimizeError('FERRY_OPTIMIZE_CHECK', {
      path: outPath,
      what,
      rule: problem.rule,
      message: problem.message,
    });
  const limit = options.maxModelBytes ?? onnx.MAX_ONNX_MODEL_BYTES;
  const external = options.externalData === true || onnx.encodeModelChunks(model).length > limit;
  const dir = dirname(outPath);
  const name = basename(outPath);
  const temp = join(dir, `.${name}.ferry-tmp-${randomBytes(6).toString('hex')}`);
  const dataName = `${name}.data`;
  let dataMoved = false;
  try {
    await mkdir(temp, { recursive: true });
    const tempModel = join(temp, name);
    const toWrite = external ? await writeExternalData(model, join(temp, dataName), dataName) : model;
    const { chunks, length } = onnx.encodeModelChunks(toWrite);
    if (length > onnx.MAX_ONNX_MODEL_BYTES)
      throw ferryError('FERRY_LIMIT', {
        path: outPath,
        what: `${what} model size`,
        value: length,
        limit: onnx.MAX_ONNX_MODEL_BYTES,
        reason: "protobuf's 2 GB message limit, even with tensors in external data",
      });
    const file = await open(tempModel, 'wx');
    try {
      for (const chunk of chunks) await writeAll(file, chunk);
      await file.sync();
    } finally {
      await file.close();
    }
    // At onnxruntime's default level, as a server loads it (some float16 patterns load only after
    // its fusions).
    const session = await openSession(tempModel, outPath, `load the ${what} model`);
    await session.release();
    await options.beforeCommit?.(tempModel);
    let bytes = length;
    if (external) {
      bytes += (await stat(join(temp, dataName))).size;
      await rename(join(temp, dataName), join(dir, dataName));
      dataMoved = true;
    }
    await moveIntoPlace(tempModel, outPath);
    return { path: outPath, ...(external && { dataPath: join(dir, dataName) }), bytes };
  } catch (error) {
    if (dataMoved) await rm(join(dir, dataName), { force: true });
    if (error instanceof Error && (error.name === 'FerryError' || error.name === 'OptimizeError'))
      throw error;
    throw ferryError('FERRY_WRITE', { path: outPath, reason: (error as Error).message }, error);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** A copy of the model whose big initializers point into `dataPath` (written here, fsynced). */
async function writeExternalData(model: OnnxModel, dataPath: string, location: string): Promise<OnnxModel> {
  const file = await open(dataPath, 'wx');
  let offset = 0;
  const initializers: onnx.OnnxTensor[] = [];
  try {
    for (const t of model.graph?.initializer ?? []) {
      const raw = t.raw_data;
      if (!raw || raw.byteLength < EXTERNAL_DATA_THRESHOLD) {
        initializers.push(t);
        continue;
      }
      // Each tensor starts on a 4 KiB boundary, so a reader can mmap it page-aligned (onnx does the same).
      const padding =
        (onnx.ONNX_EXTERNAL_ALIGNMENT - (offset % onnx.ONNX_EXTERNAL_ALIGNMENT)) %
        onnx.ONNX_EXTERNAL_ALIGNMENT;
      if (padding > 0) await writeAll(file, new Uint8Array(padding));
      offset += padding;
      await writeAll(file, raw);
      const { raw_data: _r, ...rest } = t;
      initializers.push({
        ...rest,
        data_location: onnx.schema.DATA_LOCATION_EXTERNAL,
        external_data: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.byteLength) },
        ],
      });
      offset += raw.byteLength;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { ...model, graph: { ...model.graph, initializer: initializers } };
}
