import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ferryError, onnx, onnxOpHistogram } from '@ferry/formats';
import { type VerifyOptions, verifyResult } from './check-output.js';
import { loadForTransform } from './model-io.js';
import { type OptimizationLevel, openSession } from './runtime.js';
import type { VerifyReport } from './verify.js';

export const OPTIMIZATION_LEVELS = ['basic', 'extended', 'all'] as const;

export interface OptimizeReport {
  readonly input: string;
  readonly output: string;
  readonly level: OptimizationLevel;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
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
 * tie the file to this machine's CPU). The file is then checked (structure, loads) before it
 * replaces `outPath`.
 */
export async function optimizeModel(
  inPath: string,
  outPath: string,
  options: { level?: OptimizationLevel; verify?: VerifyOptions } = {},
): Promise<OptimizeReport> {
  const level = options.level ?? 'extended';
  const { model: before, bytes: beforeBytes } = await loadForTransform(inPath);
  const temp = join(dirname(outPath), `.${basename(outPath)}.ferry-tmp-${randomBytes(6).toString('hex')}`);
  try {
    const session = await openSession(inPath, inPath, `optimize the model at level ${level}`, {
      level,
      optimizedModelFilePath: temp,
    });
    await session.release();
    let bytes: Uint8Array;
    try {
      bytes = await readFile(temp);
    } catch (error) {
      throw ferryError(
        'FERRY_OPTIMIZE_RUNTIME',
        { path: inPath, what: 'write the optimized model', reason: (error as Error).message },
        error,
      );
    }
    const after = onnx.decodeModel(bytes, outPath);
    const problem = onnx.checkModel(after)[0];
    if (problem)
      throw ferryError('FERRY_OPTIMIZE_CHECK', {
        path: outPath,
        what: 'optimized',
        rule: problem.rule,
        message: problem.message,
      });
    const verify = options.verify
      ? await verifyResult(inPath, before, bytes, outPath, options.verify, 'basic')
      : undefined;
    await rename(temp, outPath);
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
      bytesBefore: beforeBytes.byteLength,
      bytesAfter: (await stat(outPath)).size,
      nodesBefore: sum(histBefore),
      nodesAfter: sum(histAfter),
      ops,
      ...(verify && { verify }),
    };
  } finally {
    await rm(temp, { force: true });
  }
}
