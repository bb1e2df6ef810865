import type { PickleValue } from './values.js';

/**
 * A key's identity under Python's dict equality, for keys whose equality the graph can know:
 * None, str, and numbers (True == 1 == 1.0, -0.0 == 0). NaN equals nothing (CPython matches it
 * only by identity) and nodes (tuples, call results) are left distinct.
 */
function keyIdentity(key: PickleValue): string | undefined {
  if (key === null) return 'N';
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'boolean') return key ? 'n1' : 'n0';
  if (typeof key === 'bigint') return `n${key}`;
  if (typeof key === 'number') {
    if (Number.isNaN(key)) return undefined;
    return Number.isInteger(key) ? `n${BigInt(key)}` : `n${key}`;
  }
  return undefined;
}

/**
 * Stores pairs as CPython's dict does (load_dict, load_setitems: `d[k] = v` in order): a later
 * equal key replaces the value and keeps the first key's place and object. Readers that took
 * the first of two equal keys saw a value the loader had overwritten (issue #24.2).
 */
const keyIndex = new WeakMap<object, Map<string, number>>();
export function storePairs(owner: object, entries: [PickleValue, PickleValue][], items: PickleValue[]): void {
  let index = keyIndex.get(owner);
  if (!index) {
    index = new Map();
    keyIndex.set(owner, index);
  }
  for (let i = 0; i + 1 < items.length; i += 2) {
    const id = keyIdentity(items[i]!);
    const at = id === undefined ? undefined : index.get(id);
    if (at !== undefined) {
      entries[at]![1] = items[i + 1]!;
      continue;
    }
    if (id !== undefined) index.set(id, entries.length);
    entries.push([items[i]!, items[i + 1]!]);
  }
}
