import type { ModelInstance, TensorMetadata } from '@ferry/serving-api';
import { DATATYPE_SIZE, elementCount, type Tensor } from '@ferry/serving-api';

/**
 * The load-time runs (warmup and the placement probe) feed made-up inputs: zeros of the declared
 * shapes. Those are not a request the model promised to accept, so they may never make a valid
 * model unloadable (issue #18: sklearn-onnx's tree classifiers declare [?, ?] and ONNX Runtime
 * refuses a [1, 1] input because the trees read feature 19). A run happens only when every input
 * size is known (the batch dimension aside), and a run that fails is a note on the version
 * ("not warmed up", "not timed"), logged and shown in the repository index, never a load error.
 */

/**
 * Why zero-filled inputs cannot be made for these inputs (a dimension known only per request, an
 * unknown rank), or undefined when every size is known once the batch dimension (`batching`) is
 * fixed. config.yaml's `inputs[].shape` fixes such dimensions and so makes the model warmable.
 */
export function unknownInputSize(inputs: readonly TensorMetadata[], batching: boolean): string | undefined {
  for (const meta of inputs) {
    if (meta.anyRank) return `input ${meta.name} has unknown rank`;
    const k = meta.shape.findIndex((d, i) => d === -1 && !(i === 0 && batching));
    if (k >= 0)
      return `input ${meta.name} has dimension ${k} known only per request (shape [${meta.shape.join(', ')}])`;
  }
  return undefined;
}

/** Zero-filled inputs (empty strings for BYTES); rows = 0 means no batch dimension. */
export function zeroInputs(inputs: readonly TensorMetadata[], rows: number): Map<string, Tensor> {
  const map = new Map<string, Tensor>();
  for (const meta of inputs) {
    const shape = meta.shape.map((d, k) => (k === 0 && rows > 0 ? rows : d));
    const count = elementCount(shape);
    map.set(
      meta.name,
      meta.datatype === 'BYTES'
        ? { datatype: 'BYTES', shape, strings: Array.from({ length: count }, () => new Uint8Array(0)) }
        : { datatype: meta.datatype, shape, bytes: new Uint8Array(count * DATATYPE_SIZE[meta.datatype]) },
    );
  }
  return map;
}

/** The first line of an error (runtimes' messages run over many lines). */
export const firstLine = (error: unknown): string =>
  String((error as Error)?.message ?? error).split('\n')[0]!;

/**
 * Runs `runs` zero-filled requests of `rows` rows on each instance so the first real request does
 * not pay for lazy initialisation. Returns undefined when done, else why the version is not
 * warmed up (skipped or failed); the instances stay usable either way.
 */
export async function warmUp(
  instances: readonly ModelInstance[],
  inputs: readonly TensorMetadata[],
  outputs: readonly string[],
  runs: number,
  rows: number,
): Promise<string | undefined> {
  if (runs === 0) return undefined;
  const unknown = unknownInputSize(inputs, rows > 0);
  if (unknown !== undefined)
    return `not warmed up: ${unknown}; give its shape in config.yaml inputs to warm it up`;
  for (const instance of instances)
    for (let r = 0; r < runs; r++) {
      try {
        await instance.run(zeroInputs(inputs, rows), outputs);
      } catch (error) {
        return `not warmed up: the zero-filled run (batch ${rows || 'none'}) failed: ${firstLine(error)}`;
      }
    }
  return undefined;
}
