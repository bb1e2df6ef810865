import type { Datatype } from '../datatype.js';
import {
  DEFAULT_CONFIG,
  type InstancePlacement,
  type ModelConfig,
  type ServingKnobs,
  type VersionPolicy,
} from '../model-config.js';
import { MODEL_CONFIG_SCHEMA, SERVING_KNOBS_SCHEMA } from './schema.js';
import { type ValidateOptions, type Validation, validateDocument } from './walk.js';

/** The knobs as the YAML spells them, once validated against SERVING_KNOBS_SCHEMA. */
interface KnobsDocument {
  readonly max_batch_size?: number;
  readonly dynamic_batching?: {
    readonly max_queue_delay_us?: number;
    readonly preferred_batch_sizes?: readonly number[];
    readonly max_queue_size?: number;
    readonly default_timeout_us?: number;
  };
  readonly instances?: {
    readonly count?: number;
    readonly intra_op_threads?: number;
    readonly inter_op_threads?: number;
    readonly allow_spinning?: boolean;
    readonly placement?: InstancePlacement;
  };
}

/** config.yaml as the YAML spells it, once validated against MODEL_CONFIG_SCHEMA. */
interface ConfigDocument extends KnobsDocument {
  readonly backend?: string;
  readonly version_policy?: {
    readonly latest?: number;
    readonly all?: true;
    readonly specific?: readonly number[];
  };
  readonly inputs?: readonly TensorDocument[];
  readonly outputs?: readonly TensorDocument[];
  readonly warmup?: { readonly runs?: number; readonly batch_size?: number };
}

interface TensorDocument {
  readonly name: string;
  readonly datatype?: Datatype;
  readonly shape?: readonly number[];
}

/** A config.yaml document as the server runs it, every absent field defaulted. */
export function validateModelConfig(doc: unknown, options: ValidateOptions): Validation<ModelConfig> {
  const result = validateDocument(MODEL_CONFIG_SCHEMA, doc, options);
  return result.ok ? { ok: true, value: modelConfig(result.value as ConfigDocument) } : result;
}

/** A ferry.yaml `serving:` block: only the knobs it sets. */
export function validateServingKnobs(doc: unknown, options: ValidateOptions): Validation<ServingKnobs> {
  const result = validateDocument(SERVING_KNOBS_SCHEMA, doc, options);
  return result.ok ? { ok: true, value: servingKnobs(result.value as KnobsDocument) } : result;
}

function servingKnobs(doc: KnobsDocument): ServingKnobs {
  const db = doc.dynamic_batching;
  const inst = doc.instances;
  return {
    ...(doc.max_batch_size !== undefined && { maxBatchSize: doc.max_batch_size }),
    ...(db && {
      dynamicBatching: {
        ...(db.max_queue_delay_us !== undefined && { maxQueueDelayUs: db.max_queue_delay_us }),
        ...(db.preferred_batch_sizes !== undefined && { preferredBatchSizes: db.preferred_batch_sizes }),
        ...(db.max_queue_size !== undefined && { maxQueueSize: db.max_queue_size }),
        ...(db.default_timeout_us !== undefined && { defaultTimeoutUs: db.default_timeout_us }),
      },
    }),
    ...(inst && {
      instances: {
        ...(inst.count !== undefined && { count: inst.count }),
        ...(inst.intra_op_threads !== undefined && { intraOpThreads: inst.intra_op_threads }),
        ...(inst.inter_op_threads !== undefined && { interOpThreads: inst.inter_op_threads }),
        ...(inst.allow_spinning !== undefined && { allowSpinning: inst.allow_spinning }),
        ...(inst.placement !== undefined && { placement: inst.placement }),
      },
    }),
  };
}

function modelConfig(doc: ConfigDocument): ModelConfig {
  const knobs = servingKnobs(doc);
  const config: { -readonly [K in keyof ModelConfig]: ModelConfig[K] } = { ...DEFAULT_CONFIG };
  if (doc.backend !== undefined) config.backend = doc.backend;
  if (knobs.maxBatchSize !== undefined) config.maxBatchSize = knobs.maxBatchSize;
  if (knobs.dynamicBatching) {
    const { maxQueueSize, ...db } = knobs.dynamicBatching;
    config.dynamicBatching = {
      ...DEFAULT_CONFIG.dynamicBatching,
      ...db,
      ...(maxQueueSize !== undefined && { maxQueueSize }),
    };
  }
  if (knobs.instances) config.instances = { ...DEFAULT_CONFIG.instances, ...knobs.instances };
  if (doc.version_policy) config.versionPolicy = versionPolicy(doc.version_policy);
  if (doc.inputs) config.inputs = doc.inputs.map(tensorOverride);
  if (doc.outputs) config.outputs = doc.outputs.map(tensorOverride);
  if (doc.warmup)
    config.warmup = {
      runs: doc.warmup.runs ?? DEFAULT_CONFIG.warmup.runs,
      batchSize: doc.warmup.batch_size ?? DEFAULT_CONFIG.warmup.batchSize,
    };
  return config;
}

function versionPolicy(doc: NonNullable<ConfigDocument['version_policy']>): VersionPolicy {
  if (doc.latest !== undefined) return { kind: 'latest', count: doc.latest };
  if (doc.all) return { kind: 'all' };
  return { kind: 'specific', versions: doc.specific ?? [] };
}

function tensorOverride(doc: TensorDocument) {
  return {
    name: doc.name,
    ...(doc.datatype !== undefined && { datatype: doc.datatype }),
    ...(doc.shape !== undefined && { shape: doc.shape }),
  };
}
