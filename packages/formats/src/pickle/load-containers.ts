/**
 * Opcode loaders for containers: lists, tuples, dicts (with CPython's last-wins key semantics,
 * see dict-keys.ts), sets and frozensets, and the opcodes that fill them (APPEND(S), SETITEM(S),
 * ADDITEMS), which on anything but a plain container become records on the call they mutate.
 */
import { storePairs } from './dict-keys.js';
import type { MachineState } from './machine-state.js';
import type { PickleValue, PyCall, PyDict, PyNode } from './values.js';

export function loadEmptyList(m: MachineState): void {
  m.push({ kind: 'list', items: [], offset: m.opStart });
}

export function loadEmptyDict(m: MachineState): void {
  m.push({ kind: 'dict', entries: [], offset: m.opStart });
}

export function loadEmptySet(m: MachineState): void {
  m.push({ kind: 'set', items: [], offset: m.opStart });
}

export function loadList(m: MachineState): void {
  const items = m.popMark();
  const node: PyNode = { kind: 'list', items, offset: m.opStart };
  m.nest(node, items);
  m.push(node);
}

export function loadTuple1(m: MachineState): void {
  const a = m.pop();
  m.push(m.tuple([a]));
}

export function loadTuple2(m: MachineState): void {
  const b = m.pop();
  const a = m.pop();
  m.push(m.tuple([a, b]));
}

export function loadTuple3(m: MachineState): void {
  const c = m.pop();
  const b = m.pop();
  const a = m.pop();
  m.push(m.tuple([a, b, c]));
}

export function loadDict(m: MachineState): void {
  const items = m.popMark();
  if (items.length % 2 !== 0) m.stackError('odd number of items for DICT');
  const node: PyDict = { kind: 'dict', entries: [], offset: m.opStart };
  storePairs(node, node.entries, items);
  m.nest(node, items);
  m.push(node);
}

export function loadFrozenset(m: MachineState): void {
  const items = m.popMark();
  const node: PyNode = { kind: 'frozenset', items, offset: m.opStart };
  m.nest(node, items);
  m.push(node);
}

export function loadSetItem(m: MachineState): void {
  const value = m.pop();
  const key = m.pop();
  setItems(m, [key, value]);
}

export function loadSetItems(m: MachineState): void {
  const items = m.popMark();
  if (items.length % 2 !== 0) m.stackError('odd number of items for SETITEMS');
  setItems(m, items);
}

/** APPEND, APPENDS (lists) and ADDITEMS (sets); on a call result they are list items it receives. */
export function addItems(m: MachineState, items: PickleValue[], what: string): void {
  const target = m.top();
  if (target !== null && typeof target === 'object') {
    if ((what !== 'ADDITEMS' && target.kind === 'list') || (what === 'ADDITEMS' && target.kind === 'set')) {
      for (const item of items) target.items.push(item);
      m.nest(target, items);
      return;
    }
  }
  m.mutate(target, what);
  const call = target as PyCall;
  if (call.kind === 'call') {
    for (const item of items) call.listItems.push(item);
    m.nest(call, items);
  }
}

function setItems(m: MachineState, items: PickleValue[]): void {
  const target = m.top();
  if (target !== null && typeof target === 'object' && target.kind === 'dict') {
    storePairs(target, target.entries, items);
    m.nest(target, items);
    return;
  }
  m.mutate(target, m.op.name);
  const call = target as PyCall;
  if (call.kind === 'call') {
    // A dict subclass's __setitem__ (OrderedDict, defaultdict): later keys win too.
    storePairs(call, call.dictItems, items);
    m.nest(call, items);
  }
}
