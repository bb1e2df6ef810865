import { FerryError, ferryError } from '../errors.js';
import type { Severity } from '../model.js';
import type { PickleInput } from './input.js';
import { HIGHEST_PROTOCOL, OPCODES, type OpcodeInfo } from './opcodes.js';
import {
  decodeLatin1,
  decodeLong,
  decodeUtf8,
  escapeDecode,
  intValue,
  parsePythonFloat,
  parsePythonInt,
  rawUnicodeEscapeDecode,
} from './text.js';
import type { PickleValue, PyCall, PyDict, PyGlobal, PyNode, PyTuple } from './values.js';

/** Items on the value stack; CPython grows it without bound, a hostile file must not (CWE-770). */
export const MAX_STACK_DEPTH = 1_000_000;
/** Open MARKs; each one is a saved stack frame (CWE-770). */
export const MAX_MARK_DEPTH = 100_000;
/** Memo entries; the memo keeps every stored object alive (CWE-770). */
export const MAX_MEMO_ENTRIES = 4_000_000;
/** Values pushed (fresh objects and memo/DUP references alike) per pickle: bounds memory and time (CWE-400). */
export const MAX_OBJECTS = 10_000_000;
/** A decoded str lives in memory (bytes do not: they stay ranges of the file) (CWE-789). */
export const MAX_TEXT_BYTES = 256 * 1024 * 1024;
/** A protocol-0 text line (INT, GLOBAL, PERSID...); real ones are names and numbers (CWE-400). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Digits of a decimal int: CPython's own int/str limit (sys.int_info, CVE-2020-10735). */
export const MAX_INT_DIGITS = 4300;
/** Bytes of a LONG1/LONG4 int: converting one is quadratic (CVE-2020-10735 again). */
export const MAX_LONG_BYTES = 4096;
/**
 * Nesting of containers as built; CPython cannot pickle deeper than its recursion limit (1000),
 * and every consumer of the graph walks it (CWE-674).
 */
export const MAX_GRAPH_DEPTH = 1000;

export interface Anomaly {
  readonly offset: number;
  readonly severity: Severity;
  readonly rule: string;
  readonly message: string;
}

export interface MachineOptions {
  /**
   * Called after BUILD on a call result; may consume raw bytes that follow in the stream
   * (joblib writes array data right after a NumpyArrayWrapper's BUILD) and replace the object.
   * Returns the new stream position and replacement, or undefined to leave both.
   */
  readonly afterBuild?: (
    call: PyCall,
    position: number,
    input: PickleInput,
  ) => { position: number; value: PickleValue } | undefined;
  /** Lower limits for tests. */
  readonly maxObjects?: number;
}

export interface PickleResult {
  readonly value: PickleValue;
  /** Absolute offset of the PROTO opcode (or first opcode) and one past STOP. */
  readonly start: number;
  readonly end: number;
  readonly protocol: number;
  /** Every global the stream named, every call it would make, in stream order. */
  readonly globals: readonly PyGlobal[];
  readonly calls: readonly PyCall[];
  readonly anomalies: readonly Anomaly[];
}

class Machine {
  private pos: number;
  private opStart = 0;
  private op: OpcodeInfo = OPCODES[0x2e]!;
  private stack: PickleValue[] = [];
  private marks: number[] = [];
  private memo = new Map<number, PickleValue>();
  private depth = new WeakMap<PyNode, number>();
  private objects = 0;
  private protocol = 0;
  private buffers = 0;
  readonly globals: PyGlobal[] = [];
  readonly calls: PyCall[] = [];
  readonly anomalies: Anomaly[] = [];
  private readonly maxObjects: number;

  constructor(
    private readonly input: PickleInput,
    start: number,
    private readonly options: MachineOptions,
  ) {
    this.pos = start;
    this.maxObjects = options.maxObjects ?? MAX_OBJECTS;
  }

  // --- errors ---------------------------------------------------------------------------

  private stackError(reason: string): never {
    throw ferryError('FERRY_PICKLE_STACK', {
      path: this.input.name,
      offset: this.opStart,
      opcode: this.op.name,
      reason,
    });
  }
  private valueError(reason: string): never {
    throw ferryError('FERRY_PICKLE_VALUE', {
      path: this.input.name,
      offset: this.opStart,
      opcode: this.op.name,
      reason,
    });
  }
  private limit(what: string, value: number, limit: number, reason: string): never {
    throw ferryError('FERRY_PICKLE_LIMIT', {
      path: this.input.name,
      offset: this.opStart,
      what,
      value,
      limit,
      reason,
    });
  }

  // --- reading the stream ---------------------------------------------------------------

  private take(length: number, what: string): Uint8Array {
    const left = this.input.end - this.pos;
    if (length > left) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: this.input.name,
        offset: this.opStart,
        what,
        need: length,
        left,
      });
    }
    const bytes = this.input.read(this.pos, length);
    this.pos += length;
    return bytes;
  }
  /** Little-endian ints by hand: a DataView per opcode is most of the garbage on big pickles. */
  private int32(what: string): number {
    const b = this.take(4, what);
    return b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  }
  private uint16(what: string): number {
    const b = this.take(2, what);
    return b[0]! | (b[1]! << 8);
  }
  private view(length: number, what: string): DataView {
    const b = this.take(length, what);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private line(what: string): Uint8Array {
    const left = this.input.end - this.pos;
    // Look a little ahead first, more only for long lines: text opcodes come by the million.
    let size = Math.min(left, 256);
    for (;;) {
      const window = this.input.read(this.pos, size);
      const nl = window.indexOf(0x0a);
      if (nl >= 0) {
        this.pos += nl + 1;
        return window.subarray(0, nl);
      }
      if (size > MAX_LINE_BYTES) this.limit(`${what} line`, size, MAX_LINE_BYTES, 'CWE-400');
      if (size >= left) {
        throw ferryError('FERRY_PICKLE_TRUNCATED', {
          path: this.input.name,
          offset: this.opStart,
          what: `${what} (no newline)`,
          need: left + 1,
          left,
        });
      }
      size = Math.min(left, size * 64, MAX_LINE_BYTES + 1);
    }
  }
  private asciiLine(what: string): string {
    return decodeLatin1(this.line(what));
  }
  private checkText(length: number, what: string): void {
    const left = this.input.end - this.pos;
    if (length > left) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: this.input.name,
        offset: this.opStart,
        what,
        need: length,
        left,
      });
    }
    if (length > MAX_TEXT_BYTES) this.limit(what, length, MAX_TEXT_BYTES, 'CWE-789');
  }
  private length8(what: string): number {
    const value = this.view(8, `${what} length`).getBigUint64(0, true);
    if (value > BigInt(this.input.end - this.pos)) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: this.input.name,
        offset: this.opStart,
        what,
        need: value,
        left: this.input.end - this.pos,
      });
    }
    return Number(value);
  }

  // --- the stack ------------------------------------------------------------------------

  private fence(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
  }
  private push(value: PickleValue): void {
    if (this.stack.length >= MAX_STACK_DEPTH)
      this.limit('stack depth', this.stack.length + 1, MAX_STACK_DEPTH, 'CWE-770');
    if (++this.objects > this.maxObjects)
      this.limit('object count', this.objects, this.maxObjects, 'CWE-770');
    this.stack.push(value);
  }
  private pop(): PickleValue {
    if (this.stack.length <= this.fence()) this.stackError('stack underflow');
    return this.stack.pop()!;
  }
  private top(): PickleValue {
    if (this.stack.length <= this.fence()) this.stackError('stack underflow');
    return this.stack[this.stack.length - 1]!;
  }
  private popMark(): PickleValue[] {
    if (this.marks.length === 0) this.stackError('no MARK to pop to');
    const at = this.marks.pop()!;
    return this.stack.splice(at);
  }
  /** Records a container's nesting depth; beyond MAX_GRAPH_DEPTH the file is refused. */
  private nest(node: PyNode, children: readonly PickleValue[]): void {
    let deepest = this.depth.get(node) ?? 1;
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        const d = (this.depth.get(child) ?? 1) + 1;
        if (d > deepest) deepest = d;
      }
    }
    if (deepest > MAX_GRAPH_DEPTH) this.limit('nesting depth', deepest, MAX_GRAPH_DEPTH, 'CWE-674');
    this.depth.set(node, deepest);
  }
  private tuple(items: PickleValue[]): PyTuple {
    const node: PyTuple = { kind: 'tuple', items, offset: this.opStart };
    this.nest(node, items);
    return node;
  }
  private anomaly(severity: Severity, rule: string, message: string): void {
    this.anomalies.push({ offset: this.opStart, severity, rule, message });
  }
  private makeGlobal(
    module: string | null,
    name: string | null,
    opcode: PyGlobal['opcode'],
    operands?: [PickleValue, PickleValue],
  ): PyGlobal {
    const g: PyGlobal = {
      kind: 'global',
      module,
      name,
      opcode,
      offset: this.opStart,
      ...(operands && { operands }),
    };
    this.globals.push(g);
    return g;
  }
  private makeCall(
    opcode: PyCall['opcode'],
    callee: PickleValue,
    args: PickleValue[],
    kwargs?: PickleValue,
  ): PyCall {
    const call: PyCall = {
      kind: 'call',
      opcode,
      callee,
      args,
      ...(kwargs !== undefined && { kwargs }),
      states: [],
      listItems: [],
      dictItems: [],
      offset: this.opStart,
    };
    this.nest(call, [callee, ...args, ...(kwargs === undefined ? [] : [kwargs])]);
    this.calls.push(call);
    return call;
  }
  private argsOf(value: PickleValue): PickleValue[] {
    if (value === null || typeof value !== 'object' || value.kind !== 'tuple')
      this.stackError('the arguments are not a tuple');
    return [...value.items];
  }

  /** APPEND/SETITEM/ADDITEMS/BUILD on something that is not a plain container. */
  private mutate(target: PickleValue, what: string): 'call' {
    if (target !== null && typeof target === 'object') {
      if (target.kind === 'call') return 'call';
      if (target.kind === 'global' || target.kind === 'ext') {
        // A global is a module attribute or a class: mutating it changes code other objects run
        // (sys.path.append, a module dict rewritten by BUILD: picklescan's sys_module_override).
        this.anomaly('critical', 'global-mutation', `${what} mutates a module-level object`);
        return 'call';
      }
      if (target.kind === 'persid' || target.kind === 'setstate' || target.kind === 'buffer') return 'call';
    }
    return this.stackError(`${what} on a value that has no such operation`);
  }

  // --- the loop -------------------------------------------------------------------------

  run(): PickleResult {
    const start = this.pos;
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= this.input.end) {
        throw ferryError('FERRY_PICKLE_TRUNCATED', {
          path: this.input.name,
          offset: this.pos,
          what: 'the next opcode (no STOP)',
          need: 1,
          left: 0,
        });
      }
      const code = this.input.read(this.pos, 1)[0]!;
      const op = OPCODES[code];
      if (!op) {
        throw ferryError('FERRY_PICKLE_OPCODE', {
          path: this.input.name,
          offset: this.pos,
          opcode: `0x${code.toString(16).padStart(2, '0')}`,
        });
      }
      this.op = op;
      this.pos++;
      if (op.name === 'STOP') {
        const value = this.pop();
        return {
          value,
          start,
          end: this.pos,
          protocol: this.protocol,
          globals: this.globals,
          calls: this.calls,
          anomalies: this.anomalies,
        };
      }
      this.step(op);
    }
  }

  private step(op: OpcodeInfo): void {
    switch (op.name) {
      // --- machine control
      case 'PROTO': {
        const v = this.take(1, 'protocol')[0]!;
        if (v > HIGHEST_PROTOCOL) {
          throw ferryError('FERRY_PICKLE_PROTOCOL', {
            path: this.input.name,
            offset: this.opStart,
            protocol: v,
          });
        }
        this.protocol = v;
        return;
      }
      case 'FRAME': {
        // Frames only group opcodes for buffered reads (PEP 3154); the length must fit the file.
        const length = this.length8('frame');
        void length;
        return;
      }
      // --- constants
      case 'NONE':
        this.push(null);
        return;
      case 'NEWTRUE':
        this.push(true);
        return;
      case 'NEWFALSE':
        this.push(false);
        return;
      case 'INT': {
        const text = this.asciiLine('INT');
        // Python 2 wrote bools as INT 00 / 01 (pickle.py load_int).
        this.push(text === '00' ? false : text === '01' ? true : this.decimal(text));
        return;
      }
      case 'LONG': {
        const text = this.asciiLine('LONG');
        this.push(this.decimal(text.endsWith('L') ? text.slice(0, -1) : text));
        return;
      }
      case 'BININT':
        this.push(this.int32('BININT'));
        return;
      case 'BININT1':
        this.push(this.take(1, 'BININT1')[0]!);
        return;
      case 'BININT2':
        this.push(this.uint16('BININT2'));
        return;
      case 'LONG1':
        this.push(intValue(decodeLong(this.take(this.take(1, 'LONG1 length')[0]!, 'LONG1'))));
        return;
      case 'LONG4': {
        const n = this.int32('LONG4 length');
        if (n < 0) this.valueError(`negative byte count ${n}`);
        if (n > MAX_LONG_BYTES) this.limit('LONG4 size', n, MAX_LONG_BYTES, 'CVE-2020-10735');
        this.push(intValue(decodeLong(this.take(n, 'LONG4'))));
        return;
      }
      case 'FLOAT': {
        const value = parsePythonFloat(this.asciiLine('FLOAT'));
        if (value === undefined) this.valueError('not a float');
        this.push(value);
        return;
      }
      case 'BINFLOAT':
        // Big-endian, unlike every other binary argument (pickletools: float8).
        this.push(this.view(8, 'BINFLOAT').getFloat64(0, false));
        return;
      // --- strings
      case 'STRING': {
        const raw = this.line('STRING');
        const q = raw[0];
        if (raw.length < 2 || (q !== 0x22 && q !== 0x27) || raw[raw.length - 1] !== q) {
          this.valueError('the STRING argument must be quoted');
        }
        const bytes = escapeDecode(raw.subarray(1, raw.length - 1));
        if (!bytes) this.valueError('bad escape in STRING');
        this.push(decodeLatin1(bytes));
        return;
      }
      case 'BINSTRING': {
        const n = this.int32('BINSTRING length');
        if (n < 0) this.valueError(`negative byte count ${n}`);
        this.checkText(n, 'BINSTRING');
        this.push(decodeLatin1(this.take(n, 'BINSTRING')));
        return;
      }
      case 'SHORT_BINSTRING':
        this.push(decodeLatin1(this.take(this.take(1, 'length')[0]!, 'SHORT_BINSTRING')));
        return;
      case 'UNICODE': {
        const text = rawUnicodeEscapeDecode(this.line('UNICODE'));
        if (text === undefined) this.valueError('bad \\u escape in UNICODE');
        this.push(text);
        return;
      }
      case 'SHORT_BINUNICODE':
        this.push(this.utf8(this.take(this.take(1, 'length')[0]!, 'SHORT_BINUNICODE')));
        return;
      case 'BINUNICODE': {
        const n = this.int32('BINUNICODE length') >>> 0;
        this.checkText(n, 'BINUNICODE');
        this.push(this.utf8(this.take(n, 'BINUNICODE')));
        return;
      }
      case 'BINUNICODE8': {
        const n = this.length8('BINUNICODE8');
        this.checkText(n, 'BINUNICODE8 length');
        this.push(this.utf8(this.take(n, 'BINUNICODE8')));
        return;
      }
      // --- bytes: kept as ranges of the input
      case 'SHORT_BINBYTES':
        this.bytes(this.take(1, 'length')[0]!, false);
        return;
      case 'BINBYTES':
        this.bytes(this.int32('BINBYTES length') >>> 0, false);
        return;
      case 'BINBYTES8':
        this.bytes(this.length8('BINBYTES8'), false);
        return;
      case 'BYTEARRAY8':
        this.bytes(this.length8('BYTEARRAY8'), true);
        return;
      case 'NEXT_BUFFER':
        // Out-of-band data (PEP 574) is handed to pickle.loads separately; it is not in the file.
        this.anomaly('medium', 'out-of-band-buffer', 'NEXT_BUFFER refers to data outside the file');
        this.push({ kind: 'buffer', index: this.buffers++, readonly: false, offset: this.opStart });
        return;
      case 'READONLY_BUFFER': {
        const top = this.top();
        if (top !== null && typeof top === 'object' && top.kind === 'buffer') {
          this.stack[this.stack.length - 1] = { ...top, readonly: true };
        }
        return;
      }
      // --- containers
      case 'EMPTY_LIST':
        this.push({ kind: 'list', items: [], offset: this.opStart });
        return;
      case 'EMPTY_TUPLE':
        this.push(this.tuple([]));
        return;
      case 'EMPTY_DICT':
        this.push({ kind: 'dict', entries: [], offset: this.opStart });
        return;
      case 'EMPTY_SET':
        this.push({ kind: 'set', items: [], offset: this.opStart });
        return;
      case 'LIST': {
        const items = this.popMark();
        const node: PyNode = { kind: 'list', items, offset: this.opStart };
        this.nest(node, items);
        this.push(node);
        return;
      }
      case 'TUPLE':
        this.push(this.tuple(this.popMark()));
        return;
      case 'TUPLE1': {
        const a = this.pop();
        this.push(this.tuple([a]));
        return;
      }
      case 'TUPLE2': {
        const b = this.pop();
        const a = this.pop();
        this.push(this.tuple([a, b]));
        return;
      }
      case 'TUPLE3': {
        const c = this.pop();
        const b = this.pop();
        const a = this.pop();
        this.push(this.tuple([a, b, c]));
        return;
      }
      case 'DICT': {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.stackError('odd number of items for DICT');
        const node: PyDict = { kind: 'dict', entries: [], offset: this.opStart };
        storePairs(node, node.entries, items);
        this.nest(node, items);
        this.push(node);
        return;
      }
      case 'FROZENSET': {
        const items = this.popMark();
        const node: PyNode = { kind: 'frozenset', items, offset: this.opStart };
        this.nest(node, items);
        this.push(node);
        return;
      }
      case 'APPEND': {
        const value = this.pop();
        this.addItems([value], 'APPEND');
        return;
      }
      case 'APPENDS': {
        const items = this.popMark();
        this.addItems(items, 'APPENDS');
        return;
      }
      case 'ADDITEMS': {
        const items = this.popMark();
        this.addItems(items, 'ADDITEMS');
        return;
      }
      case 'SETITEM': {
        const value = this.pop();
        const key = this.pop();
        this.setItems([key, value]);
        return;
      }
      case 'SETITEMS': {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.stackError('odd number of items for SETITEMS');
        this.setItems(items);
        return;
      }
      // --- stack manipulation
      case 'POP':
        // Pickle.py: an empty frame pops the mark instead (load_pop).
        if (this.stack.length > this.fence()) this.stack.pop();
        else this.popMark();
        return;
      case 'DUP':
        this.push(this.top());
        return;
      case 'MARK':
        if (this.marks.length >= MAX_MARK_DEPTH)
          this.limit('MARK depth', this.marks.length + 1, MAX_MARK_DEPTH, 'CWE-770');
        this.marks.push(this.stack.length);
        return;
      case 'POP_MARK':
        this.popMark();
        return;
      // --- memo
      case 'GET':
        this.get(this.memoKey(this.asciiLine('GET')));
        return;
      case 'BINGET':
        this.get(this.take(1, 'BINGET')[0]!);
        return;
      case 'LONG_BINGET':
        this.get(this.int32('LONG_BINGET') >>> 0);
        return;
      case 'PUT':
        this.put(this.memoKey(this.asciiLine('PUT')));
        return;
      case 'BINPUT':
        this.put(this.take(1, 'BINPUT')[0]!);
        return;
      case 'LONG_BINPUT':
        this.put(this.int32('LONG_BINPUT') >>> 0);
        return;
      case 'MEMOIZE':
        this.put(this.memo.size);
        return;
      // --- extension registry
      case 'EXT1':
        this.ext(this.take(1, 'EXT1')[0]!);
        return;
      case 'EXT2':
        this.ext(this.uint16('EXT2'));
        return;
      case 'EXT4':
        this.ext(this.int32('EXT4'));
        return;
      // --- globals and calls
      case 'GLOBAL': {
        const module = this.nameLine('module');
        const name = this.nameLine('name');
        this.push(this.makeGlobal(module, name, 'GLOBAL'));
        return;
      }
      case 'STACK_GLOBAL': {
        const name = this.pop();
        const module = this.pop();
        if (typeof module === 'string' && typeof name === 'string') {
          this.push(this.makeGlobal(module, name, 'STACK_GLOBAL'));
          return;
        }
        // CPython requires two strs here; with memo tricks the runtime values may be strs our
        // inert graph cannot know (a module attribute rewritten by BUILD). Never guess: keep it.
        this.anomaly('critical', 'unresolvable-global', 'STACK_GLOBAL operands are not plain strings');
        this.push(this.makeGlobal(null, null, 'STACK_GLOBAL', [module, name]));
        return;
      }
      case 'REDUCE': {
        const args = this.pop();
        const callee = this.pop();
        this.push(this.makeCall('REDUCE', callee, this.argsOf(args)));
        return;
      }
      case 'NEWOBJ': {
        const args = this.pop();
        const cls = this.pop();
        this.push(this.makeCall('NEWOBJ', cls, this.argsOf(args)));
        return;
      }
      case 'NEWOBJ_EX': {
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        this.push(this.makeCall('NEWOBJ_EX', cls, this.argsOf(args), kwargs));
        return;
      }
      case 'INST': {
        const module = this.nameLine('module');
        const name = this.nameLine('name');
        const args = this.popMark();
        this.push(this.makeCall('INST', this.makeGlobal(module, name, 'INST'), args));
        return;
      }
      case 'OBJ': {
        const items = this.popMark();
        if (items.length === 0) this.stackError('OBJ needs a class');
        this.push(this.makeCall('OBJ', items[0]!, items.slice(1)));
        return;
      }
      case 'BUILD': {
        const state = this.pop();
        const obj = this.top();
        this.mutate(obj, 'BUILD');
        if (obj !== null && typeof obj === 'object' && obj.kind === 'call') {
          obj.states.push(state);
          this.nest(obj, [state]);
          const hook = this.options.afterBuild?.(obj, this.pos, this.input);
          if (hook) {
            this.pos = hook.position;
            this.stack[this.stack.length - 1] = hook.value;
          }
          return;
        }
        this.stack[this.stack.length - 1] = { kind: 'setstate', obj, state, offset: this.opStart };
        return;
      }
      // --- persistent ids
      case 'PERSID':
        this.push({ kind: 'persid', value: this.asciiLine('PERSID'), offset: this.opStart });
        return;
      case 'BINPERSID': {
        const value = this.pop();
        this.push({ kind: 'persid', value, offset: this.opStart });
        return;
      }
      default:
        // Every name in OPCODES is handled above; this guards the table against drift.
        throw ferryError('FERRY_PICKLE_OPCODE', {
          path: this.input.name,
          offset: this.opStart,
          opcode: op.name,
        });
    }
  }

  private decimal(text: string): number | bigint {
    if (text.length > MAX_INT_DIGITS) this.limit('int digits', text.length, MAX_INT_DIGITS, 'CVE-2020-10735');
    const value = parsePythonInt(text);
    if (value === undefined) this.valueError(`${JSON.stringify(text.slice(0, 40))} is not an int`);
    return intValue(value);
  }
  private utf8(bytes: Uint8Array): string {
    const text = decodeUtf8(bytes);
    if (text === undefined) this.valueError('invalid UTF-8');
    return text;
  }
  private nameLine(what: string): string {
    const text = decodeUtf8(this.line(`GLOBAL ${what}`));
    if (text === undefined) this.valueError(`${what} is not UTF-8`);
    return text;
  }
  private bytes(length: number, bytearray: boolean): void {
    const start = this.pos;
    // Stepped over, not read: a 1 GB array pickled inline stays on disk until asked for.
    const left = this.input.end - this.pos;
    if (length > left) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: this.input.name,
        offset: this.opStart,
        what: this.op.name,
        need: length,
        left,
      });
    }
    this.pos += length;
    this.push({ kind: 'bytes', bytearray, start, length, offset: this.opStart });
  }
  private memoKey(text: string): number {
    const key = this.decimal(text);
    if (typeof key !== 'number' || key < 0) this.valueError(`memo key ${text} is not a non-negative int`);
    return key;
  }
  private get(key: number): void {
    if (!this.memo.has(key)) {
      throw ferryError('FERRY_PICKLE_MEMO', {
        path: this.input.name,
        offset: this.opStart,
        opcode: this.op.name,
        key,
      });
    }
    this.push(this.memo.get(key)!);
  }
  private put(key: number): void {
    const value = this.top();
    if (!this.memo.has(key) && this.memo.size >= MAX_MEMO_ENTRIES) {
      this.limit('memo size', this.memo.size + 1, MAX_MEMO_ENTRIES, 'CWE-770');
    }
    this.memo.set(key, value);
  }
  private ext(code: number): void {
    if (code <= 0) this.valueError(`extension code ${code} is not positive`);
    // copyreg's registry is empty unless a program fills it: the name is not in the file.
    this.anomaly(
      'high',
      'extension-registry',
      `${this.op.name} names global #${code} of copyreg's extension registry`,
    );
    this.push({ kind: 'ext', code, offset: this.opStart });
  }
  private addItems(items: PickleValue[], what: string): void {
    const target = this.top();
    if (target !== null && typeof target === 'object') {
      if ((what !== 'ADDITEMS' && target.kind === 'list') || (what === 'ADDITEMS' && target.kind === 'set')) {
        for (const item of items) target.items.push(item);
        this.nest(target, items);
        return;
      }
    }
    this.mutate(target, what);
    const call = target as PyCall;
    if (call.kind === 'call') {
      for (const item of items) call.listItems.push(item);
      this.nest(call, items);
    }
  }
  private setItems(items: PickleValue[]): void {
    const target = this.top();
    if (target !== null && typeof target === 'object' && target.kind === 'dict') {
      storePairs(target, target.entries, items);
      this.nest(target, items);
      return;
    }
    this.mutate(target, this.op.name);
    const call = target as PyCall;
    if (call.kind === 'call') {
      // A dict subclass's __setitem__ (OrderedDict, defaultdict): later keys win too.
      storePairs(call, call.dictItems, items);
      this.nest(call, items);
    }
  }
}

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
function storePairs(owner: object, entries: [PickleValue, PickleValue][], items: PickleValue[]): void {
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

/** Runs one pickle starting at `start`; nothing is imported or called. */
export function runPickle(
  input: PickleInput,
  start = input.start,
  options: MachineOptions = {},
): PickleResult {
  return new Machine(input, start, options).run();
}

/** What a pickle did up to the point it failed: CPython would have run all of that first. */
export interface PartialRun {
  readonly globals: readonly PyGlobal[];
  readonly calls: readonly PyCall[];
  readonly anomalies: readonly Anomaly[];
  readonly error?: FerryError;
}

/**
 * Runs a pickle and keeps what it did even when it fails part-way: a loader that fails at
 * byte N has already made every call before N. Used where the same bytes mean different
 * things to different loaders (joblib's inline array data is opcodes to pickle.load).
 */
export function runPickleLenient(
  input: PickleInput,
  start = input.start,
  options: MachineOptions = {},
): PartialRun {
  const machine = new Machine(input, start, options);
  try {
    machine.run();
    return { globals: machine.globals, calls: machine.calls, anomalies: machine.anomalies };
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    return { globals: machine.globals, calls: machine.calls, anomalies: machine.anomalies, error };
  }
}
