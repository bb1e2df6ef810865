import type { Backend, ModelInstance, TensorMetadata } from '@ferry/serving-api';
import { serveError } from '../errors.js';
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE } from '../limits.js';
import type { ServeMetrics } from '../metrics.js';
import { Batcher } from '../scheduler/batcher.js';
import type { ModelConfig, Tensor, TensorOverride } from '@ferry/serving-api';
import { type Placed, placeInstances, probeable } from './placement.js';
import { warmUp, zeroInputs } from './warmup.js';

/** One loaded, warmed-up model version with its scheduler: what an inference request reaches. */
export interface ServedVersion {
  readonly model: string;
  readonly version: string;
  readonly platform: string;
  /** The backend's name (onnxruntime, libtorch, ...): Triton's model config `backend`. */
  readonly backend: string;
  /** The config it was loaded with (defaults filled in): what GET .../config reports. */
  readonly config: ModelConfig;
  /** Published metadata: full shapes, -1 for a varying dimension (the batch dimension included). */
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
  /** 0 = no batch dimension. */
  readonly maxBatchSize: number;
  readonly batcher: Batcher;
  /** Where the instances compute (instances.placement, with auto resolved at load). */
  readonly placement: Placed['placement'];
  /** The load's timed run at the largest batch, when auto placement measured one (µs). */
  readonly probeUs?: number;
  /**
   * What the load-time runs could not do ("not warmed up: ...", "not timed: ..."): the version
   * serves all the same; logged and shown as the repository index's reason.
   */
  readonly loadNotes: readonly string[];
  /** The backend's own input rule (Backend.checkTensor), if it has one. */
  checkTensor(name: string, tensor: Tensor): void;
  /** Identifies the files and config this was loaded from (polling reloads when it changes). */
  readonly fingerprint: string;
  close(): Promise<void>;
}

export interface LoadVersionOptions {
  readonly model: string;
  readonly version: number;
  readonly path: string;
  readonly configPath: string;
  readonly config: ModelConfig;
  readonly backend: Backend;
  readonly metrics: ServeMetrics;
  readonly fingerprint: string;
  /** The entry point (SavedModel signature) to load; undefined = the primary one. */
  readonly entry?: string;
  /** Where converting backends cache their ONNX models. */
  readonly cacheDir?: string;
}

export async function loadVersion(options: LoadVersionOptions): Promise<ServedVersion> {
  const { model, config, backend, path, configPath, metrics } = options;
  const version = String(options.version);
  const started = performance.now();
  const loaded = await backend.load(path, {
    ...(config.instances.intraOpThreads !== undefined && { intraOpThreads: config.instances.intraOpThreads }),
    ...(config.instances.interOpThreads !== undefined && { interOpThreads: config.instances.interOpThreads }),
    ...(config.instances.allowSpinning !== undefined && { allowSpinning: config.instances.allowSpinning }),
    ...(config.maxBatchSize !== undefined && { maxBatchSize: config.maxBatchSize }),
    inputs: config.inputs,
    outputs: config.outputs,
    ...(configPath !== undefined && { configPath }),
    ...(options.entry !== undefined && { entry: options.entry }),
    ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
  });
  const instances: ModelInstance[] = [];
  try {
    const maxBatchSize = batchSizeOf(config, loaded.inputs, loaded.outputs, configPath);
    const inputs = applyOverrides(loaded.inputs, config.inputs, 'inputs', maxBatchSize, configPath);
    const outputs = applyOverrides(loaded.outputs, config.outputs, 'outputs', maxBatchSize, configPath);
    const outputNames = outputs.map((o) => o.name);
    if (config.instances.placement === 'event_loop' && !loaded.createEventLoopInstance)
      throw serveError('FERRY_SERVE_CONFIG', {
        path: configPath,
        field: 'instances.placement',
        reason: `is event_loop, but the ${backend.name} backend runs only in worker threads`,
      });
    const placed = await placeInstances(
      loaded,
      config.instances.count,
      config.instances.placement,
      probeable(inputs, maxBatchSize)
        ? { inputs: () => zeroInputs(inputs, maxBatchSize), outputs: outputNames }
        : undefined,
    );
    instances.push(...placed.instances);
    const rows = maxBatchSize === 0 ? 0 : Math.min(config.warmup.batchSize, maxBatchSize);
    const warmed = await warmUp(instances, inputs, outputNames, config.warmup.runs, rows);
    const loadNotes = [placed.untimed, warmed].filter((note) => note !== undefined);
    const batcher = new Batcher(
      { model, version },
      inputs,
      outputs,
      {
        maxBatchSize,
        maxQueueDelayUs: config.dynamicBatching.maxQueueDelayUs,
        preferredBatchSizes: config.dynamicBatching.preferredBatchSizes,
        maxQueueSize: config.dynamicBatching.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE,
        defaultTimeoutUs: config.dynamicBatching.defaultTimeoutUs,
      },
      instances,
      metrics.observer(model, version),
    );
    await loaded.close();
    metrics.loaded(model, version, (performance.now() - started) / 1000);
    return {
      model,
      version,
      platform: backend.platform,
      backend: backend.name,
      config,
      inputs,
      outputs,
      maxBatchSize,
      batcher,
      placement: placed.placement,
      ...(placed.probeUs !== undefined && { probeUs: placed.probeUs }),
      loadNotes,
      checkTensor: (name, tensor) => backend.checkTensor?.(name, tensor),
      fingerprint: options.fingerprint,
      async close() {
        await batcher.close();
        metrics.forget(model, version);
      },
    };
  } catch (error) {
    await Promise.allSettled(instances.map((i) => i.close()));
    await loaded.close();
    throw error;
  }
}

function batchSizeOf(
  config: ModelConfig,
  inputs: readonly TensorMetadata[],
  outputs: readonly TensorMetadata[],
  configPath: string,
): number {
  const all = [...inputs, ...outputs];
  // a tensor of unknown rank may be a scalar: it has no first dimension to batch along
  const batchable = all.every((t) => !t.anyRank && t.shape.length > 0 && t.shape[0] === -1);
  if (config.maxBatchSize === undefined) return batchable ? DEFAULT_MAX_BATCH_SIZE : 0;
  if (config.maxBatchSize > 0 && !batchable) {
    const fixed = all.find((t) => t.anyRank || t.shape.length === 0 || t.shape[0] !== -1)!;
    throw serveError('FERRY_SERVE_CONFIG', {
      path: configPath,
      field: 'max_batch_size',
      reason: fixed.anyRank
        ? `is ${config.maxBatchSize} but ${fixed.name} has unknown rank, so no first dimension to batch along (use 0, or give its shape in ${fixed.name}'s config entry)`
        : `is ${config.maxBatchSize} but ${fixed.name} has shape [${fixed.shape.join(', ')}] with no variable first dimension to batch along (use 0)`,
    });
  }
  return config.maxBatchSize;
}

function applyOverrides(
  declared: readonly TensorMetadata[],
  overrides: readonly TensorOverride[],
  side: 'inputs' | 'outputs',
  maxBatchSize: number,
  configPath: string,
): TensorMetadata[] {
  const result: (Omit<TensorMetadata, 'shape' | 'anyRank'> & { shape: number[]; anyRank?: boolean })[] =
    declared.map((t) => ({ ...t, shape: [...t.shape] }));
  overrides.forEach((override, i) => {
    const field = `${side}[${i}]`;
    const target = result.find((t) => t.name === override.name);
    const fail = (sub: string, reason: string) =>
      serveError('FERRY_SERVE_CONFIG', { path: configPath, field: `${field}${sub}`, reason });
    if (!target)
      throw fail(
        '.name',
        `the model has no ${side.slice(0, -1)} ${override.name} (it has ${declared.map((t) => t.name).join(', ')})`,
      );
    if (override.datatype && override.datatype !== target.datatype)
      throw fail('.datatype', `is ${override.datatype} but the model's ${target.name} is ${target.datatype}`);
    if (override.shape && target.anyRank) {
      // a config shape fixes an unknown rank (the version does not batch: no offset)
      target.shape = [...override.shape];
      delete target.anyRank;
    } else if (override.shape) {
      // Triton convention: with batching, the config shape leaves out the batch dimension
      const offset = maxBatchSize > 0 ? 1 : 0;
      if (override.shape.length !== target.shape.length - offset)
        throw fail(
          '.shape',
          `has rank ${override.shape.length} but the model's ${target.name} has rank ${target.shape.length - offset}${offset ? ' (without the batch dimension)' : ''}`,
        );
      override.shape.forEach((dim, k) => {
        const declaredDim = target.shape[k + offset]!;
        if (declaredDim !== -1 && dim !== -1 && dim !== declaredDim)
          throw fail(`.shape[${k}]`, `is ${dim} but the model fixes it at ${declaredDim}`);
        if (declaredDim === -1) target.shape[k + offset] = dim;
      });
    }
  });
  return result;
}
