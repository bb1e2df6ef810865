import type { LoadedModel, ModelInstance, TensorMetadata } from '@ferry/serving-api';
import { DATATYPE_SIZE } from '@ferry/serving-api';
import type { Tensor } from '@ferry/serving-api';
import type { InstancePlacement } from '@ferry/serving-api';
import { firstLine, unknownInputSize } from './warmup.js';

/**
 * A run at the model's largest batch that takes less than this computes on the event loop. The
 * hand-off to a worker thread and back costs the process ~100-200 µs of CPU per batch on a
 * 2-core machine (two messages, two thread wake-ups): for a small MLP that is many times the run,
 * and ferry answered at half the rate of a one-thread server a user would write. Blocking the
 * loop this long per batch is what parsing one large JSON body costs.
 */
export const EVENT_LOOP_MAX_RUN_US = 200;

/**
 * Larger models are not timed: the probe loads a second copy of the model on the main thread, and
 * a model that reads most of 8M fp32 weights per run takes longer than 200 µs on a CPU anyway.
 */
export const PROBE_MAX_MODEL_BYTES = 32 * 2 ** 20;

/** Nor is a model whose inputs at the largest batch exceed this: zero-filling them costs memory, and
 * reading that much input takes longer than 200 µs. */
export const PROBE_MAX_INPUT_BYTES = 16 * 2 ** 20;

/** Timed runs of the probe; the fastest after the first (which warms the session) counts. */
const PROBE_RUNS = 4;

export interface Placed {
  readonly instances: ModelInstance[];
  readonly placement: 'worker' | 'event_loop';
  /** The probe's fastest run at the largest batch, when auto timed one. */
  readonly probeUs?: number;
  /** Why auto could not time the model although it tried (the probe run failed): a load note. */
  readonly untimed?: string;
}

/**
 * Creates the version's instances where config.yaml's instances.placement says: `worker` (each
 * its own thread), `event_loop`, or `auto`: the event loop when the backend can run there, the
 * model is at most PROBE_MAX_MODEL_BYTES, its inputs have no unknown dimension besides the batch
 * one, and a zero-filled run of the largest batch (`probe`) takes under EVENT_LOOP_MAX_RUN_US;
 * else workers.
 */
export async function placeInstances(
  loaded: LoadedModel,
  count: number,
  placement: InstancePlacement,
  probe: { inputs: () => ReadonlyMap<string, Tensor>; outputs: readonly string[] } | undefined,
): Promise<Placed> {
  const onLoop = loaded.createEventLoopInstance?.bind(loaded);
  // (served-version refuses event_loop for a backend without it, naming config.yaml)
  if (placement !== 'worker' && onLoop) {
    if (placement === 'event_loop') return { instances: await createAll(onLoop, count), placement };
    if (probe && (loaded.modelBytes ?? 0) <= PROBE_MAX_MODEL_BYTES) {
      const first = await onLoop();
      let probeUs: number | undefined;
      let untimed: string | undefined;
      try {
        probeUs = await fastestRunUs(first, probe.inputs(), probe.outputs);
      } catch (error) {
        // Zeros are not a request the model promised to accept (issue #18): a failed probe means
        // "not timed", and the model gets the default placement instead of being refused.
        untimed = `not timed: the zero-filled timing run failed: ${firstLine(error)}`;
      }
      if (probeUs !== undefined && probeUs < EVENT_LOOP_MAX_RUN_US) {
        const rest = await createAll(onLoop, count - 1);
        return { instances: [first, ...rest], placement: 'event_loop', probeUs };
      }
      await first.close();
      return {
        instances: await createAll(() => loaded.createInstance(), count),
        placement: 'worker',
        ...(probeUs !== undefined && { probeUs }),
        ...(untimed !== undefined && { untimed }),
      };
    }
  }
  return { instances: await createAll(() => loaded.createInstance(), count), placement: 'worker' };
}

async function createAll(create: () => Promise<ModelInstance>, count: number): Promise<ModelInstance[]> {
  const instances: ModelInstance[] = [];
  try {
    for (let i = 0; i < count; i++) instances.push(await create());
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.close()));
    throw error;
  }
  return instances;
}

async function fastestRunUs(
  instance: ModelInstance,
  inputs: ReadonlyMap<string, Tensor>,
  outputs: readonly string[],
): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < PROBE_RUNS; i++) {
    const started = performance.now();
    await instance.run(inputs, outputs);
    if (i > 0) fastest = Math.min(fastest, (performance.now() - started) * 1000);
  }
  return fastest;
}

/**
 * Whether the inputs can be timed at the largest batch: every size known once the batch dimension
 * is fixed (no -1 elsewhere, no strings), and PROBE_MAX_INPUT_BYTES in all at most.
 */
export function probeable(inputs: readonly TensorMetadata[], maxBatchSize: number): boolean {
  if (unknownInputSize(inputs, maxBatchSize > 0) !== undefined) return false;
  let bytes = 0;
  for (const meta of inputs) {
    if (meta.datatype === 'BYTES') return false;
    let elements = 1;
    for (const d of meta.shape) elements *= d === -1 ? maxBatchSize : d;
    bytes += elements * DATATYPE_SIZE[meta.datatype];
  }
  return bytes <= PROBE_MAX_INPUT_BYTES;
}
