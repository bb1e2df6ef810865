import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import { serveError } from '../errors.js';
import { MAX_BATCH_SIZE_LIMIT, MAX_CONFIG_BYTES, MAX_INSTANCES } from '../limits.js';
import { type Datatype, isDatatype } from '../tensor/datatype.js';

/**
 * config.yaml beside a model's version folders (docs/serving.md "config.yaml"). Field names
 * follow Triton's model configuration (docs/user_guide/model_configuration.md) in snake_case.
 * Every field is optional; unknown fields are errors so a typo never silently does nothing.
 */
export interface ModelConfig {
  readonly backend?: string;
  readonly maxBatchSize?: number;
  readonly dynamicBatching: {
    readonly maxQueueDelayUs: number;
    readonly preferredBatchSizes: readonly number[];
    readonly maxQueueSize?: number;
    readonly defaultTimeoutUs: number;
  };
  readonly instances: {
    readonly count: number;
    readonly intraOpThreads?: number;
    readonly interOpThreads?: number;
    /** Let ONNX Runtime's pool threads busy-wait between parallel sections (default false). */
    readonly allowSpinning?: boolean;
    /** Where instances compute: their own worker threads, the event loop, or chosen at load (auto). */
    readonly placement: InstancePlacement;
  };
  readonly versionPolicy: VersionPolicy;
  readonly inputs: readonly TensorOverride[];
  readonly outputs: readonly TensorOverride[];
  readonly warmup: { readonly runs: number; readonly batchSize: number };
}

export const PLACEMENTS = ['auto', 'worker', 'event_loop'] as const;
export type InstancePlacement = (typeof PLACEMENTS)[number];

export type VersionPolicy =
  | { readonly kind: 'latest'; readonly count: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

/** Narrows what the model declares: a datatype to check, a shape (without the batch dim) to fix -1 dims. */
export interface TensorOverride {
  readonly name: string;
  readonly datatype?: Datatype;
  readonly shape?: readonly number[];
}

export const DEFAULT_CONFIG: ModelConfig = {
  dynamicBatching: { maxQueueDelayUs: 0, preferredBatchSizes: [], defaultTimeoutUs: 0 },
  instances: { count: 1, placement: 'auto' },
  versionPolicy: { kind: 'latest', count: 1 },
  inputs: [],
  outputs: [],
  warmup: { runs: 1, batchSize: 1 },
};

export async function readModelConfig(path: string): Promise<ModelConfig> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return DEFAULT_CONFIG;
  }
  if (size > MAX_CONFIG_BYTES)
    throw serveError('FERRY_SERVE_CONFIG', {
      path,
      field: '(file)',
      reason: `is ${size} bytes, over the limit of ${MAX_CONFIG_BYTES} (CWE-776)`,
    });
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    // maxAliasCount bounds alias expansion (billion laughs, CWE-776)
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw serveError('FERRY_SERVE_CONFIG', {
      path,
      field: '(yaml)',
      reason: (error as Error).message.split('\n')[0]!,
    });
  }
  return parseModelConfig(doc ?? {}, path);
}

/** Validates a parsed config document; each error names the file and the dotted field. */
export function parseModelConfig(doc: unknown, path: string): ModelConfig {
  const fail = (field: string, reason: string) => serveError('FERRY_SERVE_CONFIG', { path, field, reason });
  const object = (value: unknown, field: string, keys: readonly string[]): Record<string, unknown> => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw fail(field, 'must be a mapping');
    for (const key of Object.keys(value))
      if (!keys.includes(key))
        throw fail(field ? `${field}.${key}` : key, `unknown field (known: ${keys.join(', ')})`);
    return value as Record<string, unknown>;
  };
  const integer = (value: unknown, field: string, min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw fail(field, `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
    return value;
  };
  const root = object(doc, '', [
    'backend',
    'max_batch_size',
    'dynamic_batching',
    'instances',
    'version_policy',
    'inputs',
    'outputs',
    'warmup',
  ]);
  const config: { -readonly [K in keyof ModelConfig]: ModelConfig[K] } = { ...DEFAULT_CONFIG };
  if (root.backend !== undefined) {
    if (typeof root.backend !== 'string') throw fail('backend', 'must be a string');
    config.backend = root.backend;
  }
  if (root.max_batch_size !== undefined)
    config.maxBatchSize = integer(root.max_batch_size, 'max_batch_size', 0, MAX_BATCH_SIZE_LIMIT);
  if (root.dynamic_batching !== undefined) {
    const db = object(root.dynamic_batching, 'dynamic_batching', [
      'max_queue_delay_us',
      'preferred_batch_sizes',
      'max_queue_size',
      'default_timeout_us',
    ]);
    const preferred = db.preferred_batch_sizes ?? [];
    if (!Array.isArray(preferred))
      throw fail('dynamic_batching.preferred_batch_sizes', 'must be a list of integers');
    config.dynamicBatching = {
      maxQueueDelayUs:
        db.max_queue_delay_us === undefined
          ? 0
          : integer(db.max_queue_delay_us, 'dynamic_batching.max_queue_delay_us', 0, 60_000_000),
      preferredBatchSizes: preferred.map((v, i) =>
        integer(v, `dynamic_batching.preferred_batch_sizes[${i}]`, 1, MAX_BATCH_SIZE_LIMIT),
      ),
      ...(db.max_queue_size !== undefined && {
        maxQueueSize: integer(db.max_queue_size, 'dynamic_batching.max_queue_size', 1, 1_000_000),
      }),
      defaultTimeoutUs:
        db.default_timeout_us === undefined
          ? 0
          : integer(db.default_timeout_us, 'dynamic_batching.default_timeout_us', 0, 3_600_000_000),
    };
  }
  if (root.instances !== undefined) {
    const inst = object(root.instances, 'instances', [
      'count',
      'intra_op_threads',
      'inter_op_threads',
      'allow_spinning',
      'placement',
    ]);
    if (inst.placement !== undefined && !(PLACEMENTS as readonly unknown[]).includes(inst.placement))
      throw fail(
        'instances.placement',
        `must be one of ${PLACEMENTS.join(', ')} (got ${JSON.stringify(inst.placement)})`,
      );
    if (inst.allow_spinning !== undefined && typeof inst.allow_spinning !== 'boolean')
      throw fail(
        'instances.allow_spinning',
        `must be true or false (got ${JSON.stringify(inst.allow_spinning)})`,
      );
    config.instances = {
      count: inst.count === undefined ? 1 : integer(inst.count, 'instances.count', 1, MAX_INSTANCES),
      ...(inst.intra_op_threads !== undefined && {
        intraOpThreads: integer(inst.intra_op_threads, 'instances.intra_op_threads', 0, 1024),
      }),
      ...(inst.inter_op_threads !== undefined && {
        interOpThreads: integer(inst.inter_op_threads, 'instances.inter_op_threads', 0, 1024),
      }),
      ...(inst.allow_spinning !== undefined && { allowSpinning: inst.allow_spinning as boolean }),
      placement: (inst.placement as InstancePlacement | undefined) ?? 'auto',
    };
  }
  if (root.version_policy !== undefined) {
    const vp = object(root.version_policy, 'version_policy', ['latest', 'all', 'specific']);
    const kinds = Object.keys(vp);
    if (kinds.length !== 1) throw fail('version_policy', 'must have exactly one of latest, all, specific');
    if (vp.latest !== undefined)
      config.versionPolicy = {
        kind: 'latest',
        count: integer(vp.latest, 'version_policy.latest', 1, 1_000_000),
      };
    else if (vp.all !== undefined) {
      if (vp.all !== true) throw fail('version_policy.all', 'must be true');
      config.versionPolicy = { kind: 'all' };
    } else {
      if (!Array.isArray(vp.specific) || vp.specific.length === 0)
        throw fail('version_policy.specific', 'must be a non-empty list of version numbers');
      config.versionPolicy = {
        kind: 'specific',
        versions: vp.specific.map((v, i) =>
          integer(v, `version_policy.specific[${i}]`, 1, Number.MAX_SAFE_INTEGER),
        ),
      };
    }
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const list = root[side];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw fail(side, 'must be a list');
    config[side] = list.map((item, i) => {
      const field = `${side}[${i}]`;
      const t = object(item, field, ['name', 'datatype', 'shape']);
      if (typeof t.name !== 'string' || t.name === '')
        throw fail(`${field}.name`, 'must be a non-empty string');
      if (t.datatype !== undefined && !isDatatype(t.datatype))
        throw fail(`${field}.datatype`, `must be a protocol datatype (got ${JSON.stringify(t.datatype)})`);
      if (t.shape !== undefined && !Array.isArray(t.shape))
        throw fail(`${field}.shape`, 'must be a list of integers');
      return {
        name: t.name,
        ...(t.datatype !== undefined && { datatype: t.datatype as Datatype }),
        ...(t.shape !== undefined && {
          shape: (t.shape as unknown[]).map((d, k) => integer(d, `${field}.shape[${k}]`, -1, 2 ** 31 - 1)),
        }),
      };
    });
  }
  if (root.warmup !== undefined) {
    const w = object(root.warmup, 'warmup', ['runs', 'batch_size']);
    config.warmup = {
      runs: w.runs === undefined ? 1 : integer(w.runs, 'warmup.runs', 0, 1000),
      batchSize:
        w.batch_size === undefined ? 1 : integer(w.batch_size, 'warmup.batch_size', 1, MAX_BATCH_SIZE_LIMIT),
    };
  }
  const max = config.maxBatchSize;
  if (max !== undefined)
    for (const [i, size] of config.dynamicBatching.preferredBatchSizes.entries())
      if (size > max)
        throw fail(`dynamic_batching.preferred_batch_sizes[${i}]`, `is ${size}, over max_batch_size ${max}`);
  return config;
}

/** The versions a policy serves, out of those present (sorted ascending). */
export function selectVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  if (policy.kind === 'all') return sorted;
  if (policy.kind === 'latest') return sorted.slice(-policy.count);
  return sorted.filter((v) => policy.versions.includes(v));
}
