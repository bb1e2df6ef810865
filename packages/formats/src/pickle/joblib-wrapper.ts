import { judgeGlobal } from './policy.js';
import { isNode, type PickleValue, type PyCall } from './values.js';

type Fail = (reason: string) => never;

const WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);
/** NumpyArrayWrapper.__init__(subclass, shape, order, dtype, allow_mmap=False, alignment=16). */
const INIT_PARAMS = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];
const INIT_DEFAULTS: [string, PickleValue][] = [
  ['allow_mmap', false],
  ['numpy_array_alignment_bytes', 16],
];

function isGlobal(value: PickleValue | undefined, names: ReadonlySet<string>): boolean {
  const v = value ?? null;
  return isNode(v) && v.kind === 'global' && names.has(judgeGlobal(v).name);
}
function isWrapperClass(value: PickleValue | undefined): boolean {
  return isGlobal(value, WRAPPERS);
}
const OBJECT = new Set(['builtins.object']);

/**
 * How a call made a NumpyArrayWrapper instance: 'init' when CPython ran __init__ with the call's
 * arguments (REDUCE on the class; INST/OBJ with arguments, pickle.py _instantiate), 'new' when
 * only __new__ ran (NEWOBJ, NEWOBJ_EX, copyreg.__newobj__/__newobj_ex__, _reconstructor with
 * base object, INST/OBJ without arguments), undefined when the result is no wrapper. joblib
 * reads array bytes after BUILD on any instance (NumpyUnpickler.load_build's isinstance), so
 * every way of making one counts, not only the NEWOBJ joblib writes.
 */
export function wrapperConstruction(call: PyCall, fail: Fail): 'init' | 'new' | undefined {
  if (isWrapperClass(call.callee)) {
    if (call.opcode === 'NEWOBJ' || call.opcode === 'NEWOBJ_EX') return 'new';
    if (call.opcode === 'REDUCE') return 'init';
    return call.args.length > 0 ? 'init' : 'new';
  }
  // The class handed to another callable, at any depth of its arguments (torch's allowed
  // `_rebuild_from_type_v2(func, new_type, args, state)` calls func(*args): a wrapper, with
  // attributes from `state`, that ferry cannot follow): only copyreg's forms are understood.
  let handed = searched.get(call);
  if (handed === undefined) {
    handed = handsWrapper([...call.args, ...(call.kwargs === undefined ? [] : [call.kwargs])]);
    // Once per call: what it made was decided when it ran, and opcodes only ever add to
    // containers, so a later BUILD cannot need another search (and cannot cost one, CWE-400).
    searched.set(call, handed);
  }
  if (!handed) return undefined;
  if (!isNode(call.callee) || call.callee.kind !== 'global' || !isWrapperClass(call.args[0]))
    return fail('the NumpyArrayWrapper class is handed to a call that may make one');
  const name = judgeGlobal(call.callee).name;
  if (name === 'copyreg.__newobj__' || name === 'copyreg.__newobj_ex__') return 'new';
  if (name === 'copyreg._reconstructor') {
    // _reconstructor(cls, base, state): base object means object.__new__(cls) and no __init__;
    // any other base runs base.__new__ and base.__init__, which ferry does not model.
    if (isGlobal(call.args[1], OBJECT)) return 'new';
    return fail('copyreg._reconstructor makes a NumpyArrayWrapper from a base other than object');
  }
  return fail(`${name} is handed the NumpyArrayWrapper class`);
}

const searched = new WeakMap<PyCall, boolean>();

/** Whether the wrapper class is among these values or inside their containers (not calls). */
function handsWrapper(values: readonly PickleValue[]): boolean {
  const seen = new Set<PickleValue>();
  const todo = [...values];
  while (todo.length > 0) {
    const v = todo.pop()!;
    if (!isNode(v) || seen.has(v)) continue;
    seen.add(v);
    if (isWrapperClass(v)) return true;
    if (v.kind === 'tuple' || v.kind === 'list' || v.kind === 'set' || v.kind === 'frozenset')
      todo.push(...v.items);
    else if (v.kind === 'dict') for (const [k, x] of v.entries) todo.push(k, x);
  }
  return false;
}

function isOpaque(value: PickleValue): boolean {
  // A value only known at load time (a call's result, a module attribute, a persistent id...)
  // could be any str; bytes and tuples never equal one.
  return isNode(value) && value.kind !== 'bytes' && value.kind !== 'tuple';
}

function apply(attrs: Map<string, PickleValue>, mapping: PickleValue, what: string, fail: Fail): void {
  if (!isNode(mapping) || mapping.kind !== 'dict') fail(`the ${what} is not a plain dict`);
  for (const [key, value] of mapping.entries) {
    // Non-str keys land in __dict__ but no attribute lookup finds them; a key that is a call's
    // result might be 'shape' at load time.
    if (isOpaque(key)) fail(`a ${what} key is only known at load time`);
    // A dunder attribute changes how the next BUILD is applied (an instance __setstate__ is
    // called instead of updating __dict__; setattr of __class__ changes the type).
    if (typeof key === 'string' && key.startsWith('__')) fail(`the ${what} sets ${key}`);
    if (typeof key === 'string') attrs.set(key, value);
  }
}

/**
 * The wrapper's attributes when joblib reads its array: __init__'s arguments (if it ran), then
 * every BUILD state so far in order, as pickle.py load_build applies them (`state, slotstate`
 * when a 2-tuple; `inst.__dict__[k] = v` for a truthy state, setattr for a truthy slotstate).
 * Later keys win. Throws (with a reason) on anything it cannot know.
 */
export function wrapperAttributes(call: PyCall, fail: Fail): Map<string, PickleValue> {
  // Kept per wrapper and extended by the BUILDs since: a memoized wrapper BUILD a million times
  // must not re-apply every earlier state each time (CWE-400).
  const known = applied.get(call);
  if (known) {
    for (const state of call.states.slice(known.states)) applyState(known.attrs, state, fail);
    known.states = call.states.length;
    return known.attrs;
  }
  const attrs = new Map<string, PickleValue>();
  const made = wrapperConstruction(call, fail);
  if (made === 'init') {
    // Calls beyond 4-6 positional arguments raise TypeError: nothing is read.
    if (call.args.length < 4 || call.args.length > 6 || call.kwargs !== undefined)
      fail(`NumpyArrayWrapper.__init__ called with ${call.args.length} arguments`);
    for (const [k, v] of INIT_DEFAULTS) attrs.set(k, v);
    for (const [i, v] of call.args.entries()) attrs.set(INIT_PARAMS[i]!, v);
  }
  if (call.listItems.length > 0 || call.dictItems.length > 0) fail('items added to a NumpyArrayWrapper');
  for (const state of call.states) applyState(attrs, state, fail);
  applied.set(call, { attrs, states: call.states.length });
  return attrs;
}

const applied = new WeakMap<PyCall, { attrs: Map<string, PickleValue>; states: number }>();

function applyState(attrs: Map<string, PickleValue>, state: PickleValue, fail: Fail): void {
  let main: PickleValue = state;
  let slots: PickleValue = null;
  if (isNode(state) && state.kind === 'tuple' && state.items.length === 2) {
    main = state.items[0]!;
    slots = state.items[1]!;
  }
  if (truthy(main)) apply(attrs, main, 'state', fail);
  if (truthy(slots)) apply(attrs, slots, 'slot state', fail);
}

/** Python truthiness where the graph knows it; a node it cannot judge counts as truthy. */
function truthy(value: PickleValue): boolean {
  if (value === null || value === false || value === 0 || value === 0n || value === '') return false;
  if (isNode(value)) {
    if (value.kind === 'dict') return value.entries.length > 0;
    if (value.kind === 'tuple' || value.kind === 'list' || value.kind === 'set' || value.kind === 'frozenset')
      return value.items.length > 0;
    if (value.kind === 'bytes') return value.length > 0;
  }
  return true;
}
