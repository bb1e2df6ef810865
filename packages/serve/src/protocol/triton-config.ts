import type { Datatype, TensorMetadata, VersionPolicy } from '@ferry/serving-api';
import type { ServedVersion } from '../repository/served-version.js';

/**
 * A served version's configuration in the JSON shape of Triton's model configuration extension
 * (docs/protocol/extension_model_configuration.md: the ModelConfig message of model_config.proto,
 * with int64 fields as numbers, as Triton writes them). Tools that read Triton's
 * GET /v2/models/<m>/config (perf_analyzer, model_analyzer, tritonclient) find the fields they use.
 */
export function tritonConfig(served: ServedVersion) {
  const { config, maxBatchSize } = served;
  const batching = maxBatchSize > 0;
  const queue = config.dynamicBatching;
  return {
    name: served.model,
    platform: served.platform,
    backend: served.backend,
    version_policy: versionPolicy(config.versionPolicy),
    max_batch_size: maxBatchSize,
    input: served.inputs.map((t) => ({
      name: t.name,
      data_type: tritonType(t.datatype),
      format: 'FORMAT_NONE',
      dims: dims(t, batching),
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
    })),
    output: served.outputs.map((t) => ({
      name: t.name,
      data_type: tritonType(t.datatype),
      dims: dims(t, batching),
      label_filename: '',
      is_shape_tensor: false,
    })),
    // ferry batches every version whose tensors have a batch dimension (Triton: dynamic_batching {})
    ...(batching && {
      dynamic_batching: {
        preferred_batch_size: [...queue.preferredBatchSizes],
        max_queue_delay_microseconds: queue.maxQueueDelayUs,
        preserve_ordering: false,
        priority_levels: 0,
        default_priority_level: 0,
        default_queue_policy: {
          timeout_action: 'REJECT',
          default_timeout_microseconds: queue.defaultTimeoutUs,
          allow_timeout_override: true,
          max_queue_size: queue.maxQueueSize ?? 0,
        },
      },
    }),
    instance_group: [
      {
        name: `${served.model}_0`,
        // ferry serves on CPU only (ONNX Runtime CPU, libtorch CPU)
        kind: 'KIND_CPU',
        count: config.instances.count,
        gpus: [],
        passive: false,
        host_policy: '',
      },
    ],
    parameters: {
      // ferry's own knobs, as Triton backends put theirs: string values under parameters
      placement: { string_value: served.placement },
    },
    model_warmup: [],
  };
}

/** Triton's DataType enum names (model_config.proto): BYTES is TYPE_STRING there. */
export function tritonType(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** Triton's dims leave out the batch dimension when max_batch_size > 0; unknown rank is [-1]. */
function dims(tensor: TensorMetadata, batching: boolean): number[] {
  if (tensor.anyRank) return [-1];
  return batching ? tensor.shape.slice(1) : [...tensor.shape];
}

function versionPolicy(policy: VersionPolicy) {
  if (policy.kind === 'all') return { all: {} };
  if (policy.kind === 'specific') return { specific: { versions: [...policy.versions] } };
  return { latest: { num_versions: policy.count } };
}
