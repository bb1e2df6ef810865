import type { Datatype } from './datatype.js';

/**
 * A model's serving configuration: config.yaml beside its version folders (docs/serving.md
 * "config.yaml"), whose knobs a bundle's ferry.yaml `serving:` block also sets. Field names follow
 * Triton's model configuration (docs/user_guide/model_configuration.md) in snake_case on disk.
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

/** The batching and instance knobs as set (nothing defaulted): a ferry.yaml `serving:` block. */
export interface ServingKnobs {
  readonly maxBatchSize?: number;
  readonly dynamicBatching?: {
    readonly maxQueueDelayUs?: number;
    readonly preferredBatchSizes?: readonly number[];
    readonly maxQueueSize?: number;
    readonly defaultTimeoutUs?: number;
  };
  readonly instances?: {
    readonly count?: number;
    readonly intraOpThreads?: number;
    readonly interOpThreads?: number;
    readonly allowSpinning?: boolean;
    readonly placement?: InstancePlacement;
  };
}

export const DEFAULT_CONFIG: ModelConfig = {
  dynamicBatching: { maxQueueDelayUs: 0, preferredBatchSizes: [], defaultTimeoutUs: 0 },
  instances: { count: 1, placement: 'auto' },
  versionPolicy: { kind: 'latest', count: 1 },
  inputs: [],
  outputs: [],
  warmup: { runs: 1, batchSize: 1 },
};
