import { compatName } from './compat-name.js';
import { ferryError } from '../errors.js';
import type { FindingKind } from '../finding-kinds.js';
import type { PickleInput } from './input.js';
import {
  MAX_GRAPH_DEPTH,
  MAX_INT_DIGITS,
  MAX_LINE_BYTES,
  MAX_OBJECTS,
  MAX_STACK_DEPTH,
  MAX_TEXT_BYTES,
} from './machine-limits.js';
import type { Anomaly, MachineOptions } from './machine-types.js';
import { OPCODES, type OpcodeInfo } from './opcodes.js';
import { decodeLatin1, decodeUtf8, intValue, parsePythonInt } from './text.js';
import type { PickleValue, PyCall, PyGlobal, PyNode, PyTuple } from './values.js';

/**
 * The pickle machine's state and the primitives every opcode uses: reading arguments from the
 * stream with limits, the value stack with its MARK frames, the memo, and building inert nodes
 * (a global is a name, a call is a record). The opcode loaders (load-*.ts) work on it; the
 * dispatch loop is in machine.ts. Fields are public to those loaders only: nothing outside
 * the pickle machine gets a MachineState.
 */
export class MachineState {
  pos: number;
  opStart = 0;
  op: OpcodeInfo = OPCODES[0x2e]!;
  stack: PickleValue[] = [];
  marks: number[] = [];
  memo = new Map<number, PickleValue>();
  depth = new WeakMap<PyNode, number>();
  objects = 0;
  protocol = 0;
  buffers = 0;
  readonly globals: PyGlobal[] = [];
  readonly calls: PyCall[] = [];
  readonly anomalies: Anomaly[] = [];
  readonly maxObjects: number;

  constructor(
    readonly input: PickleInput,
    start: number,
    readonly options: MachineOptions,
  ) {
    this.pos = start;
    this.maxObjects = options.maxObjects ?? MAX_OBJECTS;
  }

  // --- errors ---------------------------------------------------------------------------

  stackError(reason: string): never {
    throw ferryError('FERRY_PICKLE_STACK', {
      path: this.input.name,
      offset: this.opStart,
      opcode: this.op.name,
      reason,
    });
  }
  valueError(reason: string): never {
    throw ferryError('FERRY_PICKLE_VALUE', {
      path: this.input.name,
      offset: this.opStart,
      opcode: this.op.name,
      reason,
    });
  }
  limit(what: string, value: number, limit: number, reason: string): never {
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

  /** FERRY_PICKLE_TRUNCATED at the current opcode: `need` bytes asked for, `left` in the stream. */
  truncated(what: string, need: number | bigint, left = this.input.end - this.pos): never {
    throw ferryError('FERRY_PICKLE_TRUNCATED', {
      path: this.input.name,
      offset: this.opStart,
      what,
      need,
      left,
    });
  }
  /** Refuses a length the stream cannot hold, before anything is read or stepped over. */
  ensure(length: number, what: string): void {
    if (length > this.input.end - this.pos) this.truncated(what, length);
  }

  take(length: number, what: string): Uint8Array {
    this.ensure(length, what);
    const bytes = this.input.read(this.pos, length);
    this.pos += length;
    return bytes;
  }
  /** Little-endian ints by hand: a DataView per opcode is most of the garbage on big pickles. */
  int32(what: string): number {
    const b = this.take(4, what);
    return b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  }
  uint16(what: string): number {
    const b = this.take(2, what);
    return b[0]! | (b[1]! << 8);
  }
  view(length: number, what: string): DataView {
    const b = this.take(length, what);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  line(what: string): Uint8Array {
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
      if (size >= left) this.truncated(`${what} (no newline)`, left + 1, left);
      size = Math.min(left, size * 64, MAX_LINE_BYTES + 1);
    }
  }
  asciiLine(what: string): string {
    return decodeLatin1(this.line(what));
  }
  checkText(length: number, what: string): void {
    this.ensure(length, what);
    if (length > MAX_TEXT_BYTES) this.limit(what, length, MAX_TEXT_BYTES, 'CWE-789');
  }
  length8(what: string): number {
    const value = this.view(8, `${what} length`).getBigUint64(0, true);
    if (value > BigInt(this.input.end - this.pos)) this.truncated(what, value);
    return Number(value);
  }

  // --- the stack ------------------------------------------------------------------------

  fence(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
  }
  push(value: PickleValue): void {
    if (this.stack.length >= MAX_STACK_DEPTH)
      this.limit('stack depth', this.stack.length + 1, MAX_STACK_DEPTH, 'CWE-770');
    if (++this.objects > this.maxObjects)
      this.limit('object count', this.objects, this.maxObjects, 'CWE-770');
    this.stack.push(value);
  }
  pop(): PickleValue {
    if (this.stack.length <= this.fence()) this.stackError('stack underflow');
    return this.stack.pop()!;
  }
  top(): PickleValue {
    if (this.stack.length <= this.fence()) this.stackError('stack underflow');
    return this.stack[this.stack.length - 1]!;
  }
  popMark(): PickleValue[] {
    if (this.marks.length === 0) this.stackError('no MARK to pop to');
    const at = this.marks.pop()!;
    return this.stack.splice(at);
  }
  /** Records a container's nesting depth; beyond MAX_GRAPH_DEPTH the file is refused. */
  nest(node: PyNode, children: readonly PickleValue[]): void {
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
  tuple(items: PickleValue[]): PyTuple {
    const node: PyTuple = { kind: 'tuple', items, offset: this.opStart };
    this.nest(node, items);
    return node;
  }
  anomaly(rule: FindingKind, message: string): void {
    this.anomalies.push({ offset: this.opStart, rule, message });
  }
  makeGlobal(
    module: string | null,
    name: string | null,
    opcode: PyGlobal['opcode'],
    operands?: [PickleValue, PickleValue],
  ): PyGlobal {
    const mapped = module !== null && name !== null ? compatName(this.protocol, module, name) : undefined;
    const g: PyGlobal = {
      kind: 'global',
      module: mapped ? mapped[0] : module,
      name: mapped ? mapped[1] : name,
      opcode,
      offset: this.opStart,
      ...(operands && { operands }),
      ...(mapped && { written: { module: module!, name: name! } }),
    };
    this.globals.push(g);
    return g;
  }
  makeCall(opcode: PyCall['opcode'], callee: PickleValue, args: PickleValue[], kwargs?: PickleValue): PyCall {
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
  argsOf(value: PickleValue): PickleValue[] {
    if (value === null || typeof value !== 'object' || value.kind !== 'tuple')
      this.stackError('the arguments are not a tuple');
    return [...value.items];
  }

  /** APPEND/SETITEM/ADDITEMS/BUILD on something that is not a plain container. */
  mutate(target: PickleValue, what: string): 'call' {
    if (target !== null && typeof target === 'object') {
      if (target.kind === 'call') return 'call';
      if (target.kind === 'global' || target.kind === 'ext') {
        // A global is a module attribute or a class: mutating it changes code other objects run
        // (sys.path.append, a module dict rewritten by BUILD: picklescan's sys_module_override).
        this.anomaly('global-mutation', `${what} mutates a module-level object`);
        return 'call';
      }
      if (target.kind === 'persid' || target.kind === 'setstate' || target.kind === 'buffer') return 'call';
    }
    return this.stackError(`${what} on a value that has no such operation`);
  }

  // --- decoding text arguments ---------------------------------------------------------

  decimal(text: string): number | bigint {
    if (text.length > MAX_INT_DIGITS) this.limit('int digits', text.length, MAX_INT_DIGITS, 'CVE-2020-10735');
    const value = parsePythonInt(text);
    if (value === undefined) this.valueError(`${JSON.stringify(text.slice(0, 40))} is not an int`);
    return intValue(value);
  }
  utf8(bytes: Uint8Array): string {
    const text = decodeUtf8(bytes);
    if (text === undefined) this.valueError('invalid UTF-8');
    return text;
  }
  nameLine(what: string): string {
    const text = decodeUtf8(this.line(`GLOBAL ${what}`));
    if (text === undefined) this.valueError(`${what} is not UTF-8`);
    return text;
  }
}
