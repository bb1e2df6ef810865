import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { moveIntoPlace, onnx, onnxOpHistogram } from '@ferry/formats';
import { type VerifyOptions, verifyResult } from './check-output.js';
import { loadForTransform } from './model-io.js';
import { type OptimizationLevel, openSession } from './runtime.js';
import type { VerifyReport } from './verify.js';
import { optimizeError } from './errors.js';

export const OPTIMIZATION_LEVELS = ['basic', 'extended', 'all'] as const;

export interface OptimizeReport {
  readonly input: string;
  readonly output: string;
  readonly level: OptimizationLevel;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly dataPath?: string;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  /** Op type -> [before, after]. */
  readonly ops: Record<string, [number, number]>;
  readonly verify?: VerifyReport;
}

/**
 * onnxruntime's graph optimizations applied offline: a session with `optimizedModelFilePath`
 * writes the optimized graph (constant folding, redundant node removal, fusions: Gemm+Relu,
 * MatMul+Add, LayerNorm, GELU, attention at `extended`; layout (NCHWc) changes at `all`, which
 * tie the file to this machine's CPU). onnxruntime writes into a hidden temp folder beside
 * `outPath`; the result is checked (structure, loads, optional verification) and only then
 * renamed into place. With `externalData` (automatic when the weights pass 2 GB) onnxruntime
 * writes tensors of 1 KiB and more to `OUT.onnx.data`.
 */
export async function optimizeModel(
  inPath: string,
  outPath: string,
  options: { level?: OptimizationLevel; verify?: VerifyOptions; externalData?: boolean } = {},
): Promise<OptimizeReport> {
  const level = options.level ?? 'extended';
  const { model: before } = await loadForTransform(inPath);
  const inputBytes = onnx.encodeModelChunks(before).length;
  const external = options.externalData === true || inputBytes > onnx.MAX_ONNX_MODEL_BYTES;
  const dir = dirname(outPath);
  const name = basename(outPath);
  const dataName = `${name}.data`;
  const temp = join(dir, `.${name}.ferry-tmp-${randomBytes(6).toString('hex')}`);
  const tempModel = join(temp, name);
  let dataMoved = false;
  try {
    await mkdir(temp, { recursive: true });
    const session = await openSession(inPath, inPath, `optimize the model at level ${level}`, {
      level,
      optimizedModelFilePath: tempModel,
      ...(external && { externalInitializersFile: dataName }),
    });
    await session.release();
    let bytes: Uint8Array;
    try {
      bytes = await readFile(tempModel);
    } catch (error) {
      throw optimizeError(
        'FERRY_OPTIMIZE_RUNTIME',
        { path: inPath, what: 'write the optimized model', reason: (error as Error).message },
        error,
      );
    }
    const after = onnx.decodeModel(bytes, outPath);
    const problem = onnx.checkModel(after)[0];
    if (problem)
      throw optimizeError('FERRY_OPTIMIZE_CHECK', {
        path: outPath,
        what: 'optimized',
        rule: problem.rule,
        message: problem.message,
      });
    const check = await openSession(tempModel, outPath, 'load the optimized model');
    await check.release();
    const verify = options.verify
      ? await verifyResult(inPath, before, tempModel, outPath, options.verify, 'basic')
      : undefined;
    let bytesAfter = bytes.byteLength;
    if (external) {
      bytesAfter += (await stat(join(temp, dataName))).size;
      await rename(join(temp, dataName), join(dir, dataName));
      dataMoved = true;
    }
    await moveIntoPlace(tempModel, outPath);
    const histBefore = onnxOpHistogram(before.graph ?? {});
    const histAfter = onnxOpHistogram(after.graph ?? {});
    const ops: Record<string, [number, number]> = {};
    for (const key of new Set([...Object.keys(histBefore), ...Object.keys(histAfter)]))
      ops[key] = [histBefore[key] ?? 0, histAfter[key] ?? 0];
    const sum = (h: Record<string, number>) => Object.values(h).reduce((a, b) => a + b, 0);
    return {
      input: inPath,
      output: outPath,
      level,
      bytesBefore: (await stat(inPath)).size,
      bytesAfter,
      ...(external && { dataPath: join(dir, dataName) }),
      nodesBefore: sum(histBefore),
      nodesAfter: sum(histAfter),
      ops,
      ...(verify && { verify }),
    };
  } catch (error) {
    if (dataMoved) await rm(join(dir, dataName), { force: true });
    throw error;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
