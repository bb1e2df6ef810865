/**
 * The inert object graph the pickle machine builds. Python values with a JS form stay plain
 * (None -> null, bool, int -> number or bigint beyond 2^53, float -> number, str -> string);
 * everything else is a node. A global is only a name; a call is only a record of what would
 * have been called. Nothing here can run.
 */
export type PickleValue = null | boolean | number | bigint | string | PyNode;

export type PyNode =
  | PyBytes
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | PyCall
  | PySetState
  | PyPersistentId
  | PyExtension
  | PyBuffer;

interface NodeBase {
  /** Absolute byte offset (in the input) of the opcode that made this node. */
  readonly offset: number;
}

/** bytes / bytearray, kept as a range of the input: a 1 GB array pickled inline is not copied. */
export interface PyBytes extends NodeBase {
  readonly kind: 'bytes';
  readonly bytearray: boolean;
  /** Absolute offset of the first data byte in the input. */
  readonly start: number;
  readonly length: number;
}

export interface PyTuple extends NodeBase {
  readonly kind: 'tuple';
  readonly items: readonly PickleValue[];
}

export interface PyList extends NodeBase {
  readonly kind: 'list';
  readonly items: PickleValue[];
}

export interface PyDict extends NodeBase {
  readonly kind: 'dict';
  readonly entries: [PickleValue, PickleValue][];
}

export interface PySet extends NodeBase {
  readonly kind: 'set' | 'frozenset';
  readonly items: PickleValue[];
}

/**
 * `module.name` as GLOBAL/INST or STACK_GLOBAL named it. When STACK_GLOBAL's operands are not
 * both strings (a module attribute smuggled through memo tricks), module and name are null
 * and the operands are kept: such a global cannot be judged and is always critical.
 */
export interface PyGlobal extends NodeBase {
  readonly kind: 'global';
  readonly module: string | null;
  readonly name: string | null;
  readonly opcode: 'GLOBAL' | 'STACK_GLOBAL' | 'INST';
  readonly operands?: readonly [PickleValue, PickleValue];
  /**
   * The Python 2 name the file wrote, when find_class maps it (protocol < 3, compat-names.ts):
   * `module` and `name` are then the Python 3 names CPython imports.
   */
  readonly written?: { readonly module: string; readonly name: string };
}

/**
 * What REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ would have called. State (BUILD) and items
 * (APPEND/SETITEMS/ADDITEMS on the result, as OrderedDict and list subclasses are pickled) are
 * recorded on the node so memo references see them, as they would see the mutated object.
 */
export interface PyCall extends NodeBase {
  readonly kind: 'call';
  readonly opcode: 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ';
  readonly callee: PickleValue;
  readonly args: readonly PickleValue[];
  readonly kwargs?: PickleValue;
  readonly states: PickleValue[];
  readonly listItems: PickleValue[];
  readonly dictItems: [PickleValue, PickleValue][];
}

/** BUILD applied to something that is not a call result (a global: a module or class mutated). */
export interface PySetState extends NodeBase {
  readonly kind: 'setstate';
  readonly obj: PickleValue;
  readonly state: PickleValue;
}

/** PERSID / BINPERSID: a reference the loader resolves (torch storages), not data in the pickle. */
export interface PyPersistentId extends NodeBase {
  readonly kind: 'persid';
  readonly value: PickleValue;
}

/** EXT1/2/4: a code in copyreg's extension registry, i.e. a global whose name is not in the file. */
export interface PyExtension extends NodeBase {
  readonly kind: 'ext';
  readonly code: number;
}

/** NEXT_BUFFER (protocol 5): out-of-band data that is not in the file. */
export interface PyBuffer extends NodeBase {
  readonly kind: 'buffer';
  readonly index: number;
  readonly readonly: boolean;
}

export function isNode(value: PickleValue): value is PyNode {
  return value !== null && typeof value === 'object';
}

export function globalName(g: PyGlobal): string {
  return g.module === null || g.name === null ? '<unresolvable>' : `${g.module}.${g.name}`;
}

/** A dict's value for a string key, or undefined; the last one wins, as in CPython's dict. */
export function dictGet(dict: PyDict, key: string): PickleValue | undefined {
  for (let i = dict.entries.length - 1; i >= 0; i--)
    if (dict.entries[i]![0] === key) return dict.entries[i]![1];
  return undefined;
}
