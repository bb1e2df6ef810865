import type { Datatype, TensorMetadata, TensorOverride } from '@ferry/serving-api';
import { torchscriptDtypeOf } from './dtype.js';
import { torchscriptError } from './errors.js';

/**
 * TorchScript archives carry no tensor signature (forward's schema says "Tensor", never a dtype
 * or shape), so the model's inputs and outputs come from config.yaml, as in Triton's pytorch
 * backend. Shapes follow Triton's convention: with batching (max_batch_size absent or > 0) the
 * configured shape leaves out the batch dimension, which becomes a leading -1.
 */
export function declaredTensors(
  side: 'inputs' | 'outputs',
  list: readonly TensorOverride[] | undefined,
  batching: boolean,
  configPath: string,
): TensorMetadata[] {
  const fail = (field: string, reason: string) =>
    torchscriptError('FERRY_TORCHSCRIPT_CONFIG', { path: configPath, field, reason });
  if (!list || list.length === 0)
    throw fail(
      side,
      `TorchScript archives carry no ${side.slice(0, -1)} signature: list every ${side === 'inputs' ? 'forward argument' : 'output'} with name, datatype and shape under ${side}:`,
    );
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const field = `${side}[${i}]`;
    if (seen.has(entry.name)) throw fail(`${field}.name`, `${entry.name} is listed twice`);
    seen.add(entry.name);
    if (entry.datatype === undefined)
      throw fail(`${field}.datatype`, `${entry.name} needs a datatype (TorchScript declares none)`);
    if (torchscriptDtypeOf(entry.datatype) === undefined)
      throw fail(`${field}.datatype`, `${entry.datatype} has no libtorch 1.13 tensor type`);
    if (entry.shape === undefined)
      throw fail(`${field}.shape`, `${entry.name} needs a shape (-1 for a dimension that varies)`);
    const datatype: Datatype = entry.datatype;
    return { name: entry.name, datatype, shape: batching ? [-1, ...entry.shape] : [...entry.shape] };
  });
}

const TRITON_INPUT = /^input__(\d+)$/;

/**
 * For each forward parameter position, the index of the configured input that fills it. Inputs are
 * matched by forward's parameter names when every configured name is one; else by Triton's
 * input__N names; else in config order. Configured inputs must fill forward's leading parameters.
 */
export function argumentOrder(
  inputs: readonly TensorMetadata[],
  argumentNames: readonly string[],
  configPath: string,
): number[] {
  const fail = (reason: string) =>
    torchscriptError('FERRY_TORCHSCRIPT_CONFIG', { path: configPath, field: 'inputs', reason });
  const params = `forward(${argumentNames.join(', ')})`;
  if (inputs.length > argumentNames.length)
    throw fail(`lists ${inputs.length} inputs but the model's ${params} takes ${argumentNames.length}`);
  const names = inputs.map((t) => t.name);
  if (names.every((n) => argumentNames.includes(n))) {
    const order = argumentNames.slice(0, inputs.length).map((arg) => names.indexOf(arg));
    const missing = order.findIndex((i) => i < 0);
    if (missing >= 0)
      throw fail(
        `names ${names.join(', ')} but the model's ${params} needs ${argumentNames[missing]} before them`,
      );
    return order;
  }
  const numbered = names.map((n) => TRITON_INPUT.exec(n)?.[1]);
  if (numbered.every((n) => n !== undefined)) {
    const order = inputs.map((_, position) => numbered.indexOf(String(position)));
    const missing = order.findIndex((i) => i < 0);
    if (missing >= 0) throw fail(`has input__N names but no input__${missing}`);
    return order;
  }
  return inputs.map((_, i) => i);
}

const TRITON_OUTPUT = /^output__(\d+)$/;

/**
 * Which produced output a configured output is: the one with its name (a dict key, or output__N),
 * else, for a tensor/tuple/list result (named output__0..), the one at its position in config.
 */
export function findOutput<T extends { readonly name: string }>(
  produced: readonly T[],
  name: string,
  position: number,
): T | undefined {
  const byName = produced.find((o) => o.name === name);
  if (byName) return byName;
  if (TRITON_OUTPUT.test(name)) return undefined;
  const positional = produced.every((o, i) => o.name === `output__${i}`);
  return positional ? produced[position] : undefined;
}
