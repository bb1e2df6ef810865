import { ferryError } from '../errors.js';
import type { OpaqueTensor } from '../model.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import { MAX_GRAPH_DEPTH } from './machine.js';
import { judgeGlobal } from './policy.js';
import { renderGraph } from './render.js';
import { globalName, isNode, type PickleValue, type PyCall } from './values.js';

/** Leaf values kept for inspect's details; a state_dict of 100k scalars is summarised (CWE-770). */
export const MAX_DETAIL_LEAVES = 1000;
/** Objects listed in details (class and attributes). */
export const MAX_DETAIL_OBJECTS = 1000;
/**
 * A str value longer than this is shown by its length, as bytes are: a LightGBM Booster pickles
 * its whole model as text (hundreds of MB for big models), which is not a value to print.
 */
export const MAX_DETAIL_TEXT = 4096;

/** An array's tensor(s) (a masked array is data and mask), or undefined when value is no array. */
export type TensorOf = (
  value: PickleValue,
  name: string,
) => TensorRef | OpaqueTensor | readonly (TensorRef | OpaqueTensor)[] | undefined;

export interface Flattened {
  readonly tensors: TensorRef[];
  readonly opaque: OpaqueTensor[];
  /** Non-tensor leaves by dotted name (numbers, strings, bools, None). */
  readonly values: Record<string, unknown>;
  /** Objects met on the way: dotted name, class, attribute names. */
  readonly objects: { name: string; class: string; attributes: string[] }[];
  leafCount: number;
}

const DICT_CLASSES = new Set(['collections.OrderedDict', 'builtins.dict', 'collections.defaultdict']);

function keyText(key: PickleValue): string | undefined {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  if (key === null) return 'None';
  return undefined;
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

function leafValue(value: PickleValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && value.length > MAX_DETAIL_TEXT)
    return `<str of ${value.length} characters>`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (isNode(value)) {
    if (value.kind === 'bytes') return `<${value.length} bytes>`;
    if (value.kind === 'global') return `<${globalName(value)}>`;
    return `<${value.kind}>`;
  }
  return value;
}

/** A dict-like call's entries: OrderedDict() + SETITEMS, OrderedDict([(k, v), ...]), dict(...). */
function dictEntries(call: PyCall): [PickleValue, PickleValue][] {
  const entries: [PickleValue, PickleValue][] = [];
  const first = call.args[0];
  if (isNode(first ?? null) && (first as { kind: string }).kind === 'list') {
    for (const pair of (first as { items: PickleValue[] }).items) {
      if (isNode(pair) && (pair.kind === 'tuple' || pair.kind === 'list') && pair.items.length === 2) {
        entries.push([pair.items[0]!, pair.items[1]!]);
      }
    }
  }
  entries.push(...call.dictItems);
  return entries;
}

/**
 * Walks a checkpoint's object graph and names every tensor with its dotted path (nested
 * state_dicts, optimizer states, Lightning checkpoints, TorchScript module attributes, the
 * fitted attributes of an estimator). Depth is bounded and cycles (possible through the memo)
 * are cut, so a hostile graph cannot recurse without end.
 */
export function flattenGraph(root: PickleValue, tensorOf: TensorOf, path: string, rootName = ''): Flattened {
  const out: Flattened = { tensors: [], opaque: [], values: {}, objects: [], leafCount: 0 };
  const onPath = new Set<object>();
  const leaf = (name: string, value: PickleValue) => {
    out.leafCount++;
    if (Object.keys(out.values).length < MAX_DETAIL_LEAVES) out.values[name || '(root)'] = leafValue(value);
  };
  const walk = (value: PickleValue, name: string, depth: number): void => {
    if (depth > MAX_GRAPH_DEPTH) {
      throw ferryError('FERRY_PICKLE_LIMIT', {
        path,
        offset: isNode(value) ? value.offset : 0,
        what: 'nesting depth',
        value: depth,
        limit: MAX_GRAPH_DEPTH,
        reason: 'CWE-674',
      });
    }
    const tensor = tensorOf(value, name || 'tensor');
    if (tensor) {
      for (const t of Array.isArray(tensor) ? tensor : [tensor]) {
        if ('source' in t) out.tensors.push(t);
        else out.opaque.push(t);
      }
      return;
    }
    if (!isNode(value)) {
      leaf(name, value);
      return;
    }
    if (onPath.has(value)) {
      leaf(name, '<cycle>');
      return;
    }
    onPath.add(value);
    try {
      switch (value.kind) {
        case 'dict':
          for (const [k, v] of value.entries) {
            const key = keyText(k);
            if (key !== undefined) walk(v, join(name, key), depth + 1);
          }
          return;
        case 'list':
        case 'tuple':
          if (value.items.length === 0) leaf(name, value.kind === 'list' ? '[]' : '()');
          for (let i = 0; i < value.items.length; i++)
            walk(value.items[i]!, join(name, String(i)), depth + 1);
          return;
        case 'call': {
          const callee =
            isNode(value.callee) && value.callee.kind === 'global'
              ? judgeGlobal(value.callee).name
              : renderGraph(value.callee, 120);
          // copyreg rebuilds (protocols 0-1) name the real class in their first argument.
          const made = value.args[0] ?? null;
          const shown =
            (callee === 'copyreg._reconstructor' || callee === 'copyreg.__newobj__') &&
            isNode(made) &&
            made.kind === 'global'
              ? judgeGlobal(made).name
              : callee;
          if (DICT_CLASSES.has(callee)) {
            for (const [k, v] of dictEntries(value)) {
              const key = keyText(k);
              if (key !== undefined) walk(v, join(name, key), depth + 1);
            }
            return;
          }
          if (
            (callee === 'builtins.bytearray' || callee === 'builtins.bytes') &&
            isNode(value.args[0] ?? null)
          ) {
            // A bytes payload (XGBoost's raw booster model): reported by size, not walked.
            leaf(name, value.args[0]!);
            return;
          }
          if (callee === 'torch.Size') {
            leaf(name, '<torch.Size>');
            return;
          }
          // An object: NEWOBJ/REDUCE of a class, then BUILD with its __dict__ (and slots).
          const attributes: string[] = [];
          for (const state of value.states) {
            const dicts = isNode(state) && state.kind === 'tuple' ? state.items : [state];
            for (const d of dicts) {
              if (isNode(d) && d.kind === 'dict') {
                for (const [k, v] of d.entries) {
                  const key = keyText(k);
                  if (key === undefined) continue;
                  attributes.push(key);
                  walk(v, join(name, key), depth + 1);
                }
              }
            }
          }
          for (let i = 0; i < value.listItems.length; i++)
            walk(value.listItems[i]!, join(name, String(i)), depth + 1);
          if (out.objects.length < MAX_DETAIL_OBJECTS)
            out.objects.push({ name: name || '(root)', class: shown, attributes });
          if (value.states.length === 0 && value.listItems.length === 0) leaf(name, `<${shown}>`);
          return;
        }
        default:
          leaf(name, value);
          return;
      }
    } finally {
      onPath.delete(value);
    }
  };
  walk(root, rootName, 0);
  return out;
}
