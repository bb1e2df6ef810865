import { DATATYPES } from '../datatype.js';
import {
  ANY_DIM,
  MAX_BATCH_SIZE,
  MAX_DEFAULT_TIMEOUT_US,
  MAX_DIM,
  MAX_INSTANCES,
  MAX_LATEST_VERSIONS,
  MAX_PREFERRED_BATCH_SIZES,
  MAX_QUEUE_DELAY_US,
  MAX_QUEUE_SIZE,
  MAX_THREADS,
  MAX_WARMUP_RUNS,
} from '../limits.js';
import { PLACEMENTS } from '../model-config.js';
import type { MappingRule, Rule } from './rules.js';

/**
 * The model config schema, declared once: config.yaml is read against MODEL_CONFIG_SCHEMA and a
 * ferry.yaml `serving:` block against SERVING_KNOBS_SCHEMA, the same fields and bounds. Every
 * field is optional; unknown fields are errors so a typo never silently does nothing.
 */
const integer = (min: number, max: number): Rule => ({ kind: 'integer', min, max });

const BATCH_SIZE = integer(1, MAX_BATCH_SIZE);

const DYNAMIC_BATCHING: MappingRule = {
  kind: 'mapping',
  fields: {
    max_queue_delay_us: integer(0, MAX_QUEUE_DELAY_US),
    preferred_batch_sizes: {
      kind: 'list',
      items: BATCH_SIZE,
      what: 'a list of integers',
      maxItems: MAX_PREFERRED_BATCH_SIZES,
    },
    max_queue_size: integer(1, MAX_QUEUE_SIZE),
    default_timeout_us: integer(0, MAX_DEFAULT_TIMEOUT_US),
  },
};

const INSTANCES: MappingRule = {
  kind: 'mapping',
  fields: {
    count: integer(1, MAX_INSTANCES),
    intra_op_threads: integer(0, MAX_THREADS),
    inter_op_threads: integer(0, MAX_THREADS),
    allow_spinning: { kind: 'boolean' },
    placement: { kind: 'enum', values: PLACEMENTS },
  },
};

/** Triton's batching and instance knobs: what a bundle may set for the server. */
export const SERVING_KNOBS_SCHEMA: MappingRule = {
  kind: 'mapping',
  fields: {
    max_batch_size: integer(0, MAX_BATCH_SIZE),
    dynamic_batching: DYNAMIC_BATCHING,
    instances: INSTANCES,
  },
  checks: [
    {
      after: 'dynamic_batching',
      list: ['dynamic_batching', 'preferred_batch_sizes'],
      bound: 'max_batch_size',
    },
  ],
};

/** A declared dimension: -1 for any size. */
export const DIM_RULE: Rule = integer(ANY_DIM, MAX_DIM);

const TENSOR_OVERRIDES: Rule = {
  kind: 'list',
  what: 'a list',
  items: {
    kind: 'mapping',
    fields: {
      name: { kind: 'string', nonEmpty: true, required: true },
      datatype: { kind: 'enum', values: DATATYPES, what: 'a protocol datatype' },
      shape: { kind: 'list', items: DIM_RULE, what: 'a list of integers' },
    },
  },
};

/** config.yaml beside a model's version folders. */
export const MODEL_CONFIG_SCHEMA: MappingRule = {
  kind: 'mapping',
  fields: {
    backend: { kind: 'string' },
    max_batch_size: SERVING_KNOBS_SCHEMA.fields.max_batch_size!,
    dynamic_batching: DYNAMIC_BATCHING,
    instances: INSTANCES,
    version_policy: {
      kind: 'mapping',
      exactlyOne: true,
      fields: {
        latest: integer(1, MAX_LATEST_VERSIONS),
        all: { kind: 'true' },
        specific: {
          kind: 'list',
          items: integer(1, Number.MAX_SAFE_INTEGER),
          what: 'a non-empty list of version numbers',
          nonEmpty: true,
        },
      },
    },
    inputs: TENSOR_OVERRIDES,
    outputs: TENSOR_OVERRIDES,
    warmup: {
      kind: 'mapping',
      fields: { runs: integer(0, MAX_WARMUP_RUNS), batch_size: BATCH_SIZE },
    },
  },
  checks: SERVING_KNOBS_SCHEMA.checks!,
};
