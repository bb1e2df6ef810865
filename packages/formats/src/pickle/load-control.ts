/**
 * Opcode loaders for the machine itself: protocol and framing, stack manipulation (POP, DUP,
 * MARK), the memo, and out-of-band buffers (PEP 574).
 */
import { ferryError } from '../errors.js';
import { MAX_MARK_DEPTH, MAX_MEMO_ENTRIES } from './machine-limits.js';
import type { MachineState } from './machine-state.js';
import { HIGHEST_PROTOCOL } from './opcodes.js';

// --- protocol and framing

export function loadProto(m: MachineState): void {
  const v = m.take(1, 'protocol')[0]!;
  if (v > HIGHEST_PROTOCOL) {
    throw ferryError('FERRY_PICKLE_PROTOCOL', { path: m.input.name, offset: m.opStart, protocol: v });
  }
  m.protocol = v;
}

export function loadFrame(m: MachineState): void {
  // Frames only group opcodes for buffered reads (PEP 3154); the length must fit the file.
  m.length8('frame');
}

// --- stack manipulation

export function loadPop(m: MachineState): void {
  // Pickle.py: an empty frame pops the mark instead (load_pop).
  if (m.stack.length > m.fence()) m.stack.pop();
  else m.popMark();
}

export function loadMark(m: MachineState): void {
  if (m.marks.length >= MAX_MARK_DEPTH) m.limit('MARK depth', m.marks.length + 1, MAX_MARK_DEPTH, 'CWE-770');
  m.marks.push(m.stack.length);
}

// --- memo

/** GET's and PUT's text argument. */
export function memoKey(m: MachineState, text: string): number {
  const key = m.decimal(text);
  if (typeof key !== 'number' || key < 0) m.valueError(`memo key ${text} is not a non-negative int`);
  return key;
}

/** GET, BINGET, LONG_BINGET once their key is read. */
export function memoGet(m: MachineState, key: number): void {
  if (!m.memo.has(key)) {
    throw ferryError('FERRY_PICKLE_MEMO', { path: m.input.name, offset: m.opStart, opcode: m.op.name, key });
  }
  m.push(m.memo.get(key)!);
}

/** PUT, BINPUT, LONG_BINPUT, MEMOIZE once their key is known. */
export function memoPut(m: MachineState, key: number): void {
  const value = m.top();
  if (!m.memo.has(key) && m.memo.size >= MAX_MEMO_ENTRIES) {
    m.limit('memo size', m.memo.size + 1, MAX_MEMO_ENTRIES, 'CWE-770');
  }
  m.memo.set(key, value);
}

// --- out-of-band buffers

export function loadNextBuffer(m: MachineState): void {
  // Out-of-band data (PEP 574) is handed to pickle.loads separately; it is not in the file.
  m.anomaly('out-of-band-buffer', 'NEXT_BUFFER refers to data outside the file');
  m.push({ kind: 'buffer', index: m.buffers++, readonly: false, offset: m.opStart });
}

export function loadReadonlyBuffer(m: MachineState): void {
  const top = m.top();
  if (top !== null && typeof top === 'object' && top.kind === 'buffer') {
    m.stack[m.stack.length - 1] = { ...top, readonly: true };
  }
}
