import * as ort from 'onnxruntime-node';
import { optimizeError } from './errors.js';

/** onnxruntime's own warnings go straight to the process's stderr; keep them to errors. */
ort.env.logLevel = 'error';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  readonly level?: OptimizationLevel;
  /** Where onnxruntime writes the model after its graph optimizations. */
  readonly optimizedModelFilePath?: string;
  readonly threads?: number;
  /** With optimizedModelFilePath: tensors of 1 KiB and more go to this file beside the model. */
  readonly externalInitializersFile?: string;
}

/** Opens a model (a path or its bytes) in onnxruntime; its refusal becomes FERRY_OPTIMIZE_RUNTIME. */
export async function openSession(
  model: string | Uint8Array,
  path: string,
  what: string,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  try {
    const opts: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.level ?? 'all',
      logSeverityLevel: 3,
      ...(options.optimizedModelFilePath && { optimizedModelFilePath: options.optimizedModelFilePath }),
      ...(options.threads && { intraOpNumThreads: options.threads, interOpNumThreads: 1 }),
      // onnxruntime_session_options_config_keys.h: kOrtSessionOptionsOptimizedModelExternalInitializersFileName
      ...(options.externalInitializersFile && {
        extra: {
          session: {
            optimized_model_external_initializers_file_name: options.externalInitializersFile,
            optimized_model_external_initializers_min_size_in_bytes: '1024',
          },
        },
      }),
    };
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, opts)
      : await ort.InferenceSession.create(model, opts);
  } catch (error) {
    throw optimizeError('FERRY_OPTIMIZE_RUNTIME', { path, what, reason: firstLine(error) }, error);
  }
}

export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  path: string,
): Promise<Record<string, ort.Tensor>> {
  try {
    return await session.run(feeds);
  } catch (error) {
    throw optimizeError(
      'FERRY_OPTIMIZE_RUNTIME',
      { path, what: 'run the model', reason: firstLine(error) },
      error,
    );
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .trim();
}

export { ort };
