/**
 * ferry's pickle machine: runs every opcode of protocols 0-5 inertly (a global is a name, a call
 * is a record) and returns the object graph with every global and call the stream would make.
 * This file is the dispatch loop and the entry points; the state and its primitives are in
 * machine-state.ts, the opcode loaders in load-*.ts, the limits in machine-limits.ts.
 */
import { FerryError, ferryError } from '../errors.js';
import {
  addItems,
  loadDict,
  loadEmptyDict,
  loadEmptyList,
  loadEmptySet,
  loadFrozenset,
  loadList,
  loadSetItem,
  loadSetItems,
  loadTuple1,
  loadTuple2,
  loadTuple3,
} from './load-containers.js';
import {
  loadFrame,
  loadMark,
  loadNextBuffer,
  loadPop,
  loadProto,
  loadReadonlyBuffer,
  memoGet,
  memoKey,
  memoPut,
} from './load-control.js';
import {
  loadBinPersId,
  loadBuild,
  loadExtension,
  loadGlobal,
  loadInst,
  loadNewObj,
  loadNewObjEx,
  loadObj,
  loadPersId,
  loadReduce,
  loadStackGlobal,
} from './load-objects.js';
import {
  loadBinFloat,
  loadBinString,
  loadBinUnicode,
  loadBinUnicode8,
  loadBytes,
  loadFloat,
  loadInt,
  loadLong,
  loadLong1,
  loadLong4,
  loadShortBinString,
  loadShortBinUnicode,
  loadString,
  loadUnicode,
} from './load-scalars.js';
import type { PickleInput } from './input.js';
import { MachineState } from './machine-state.js';
import type { MachineOptions, PartialRun, PickleResult } from './machine-types.js';
import { OPCODES, type OpcodeInfo } from './opcodes.js';

export {
  MAX_GRAPH_DEPTH,
  MAX_INT_DIGITS,
  MAX_LINE_BYTES,
  MAX_LONG_BYTES,
  MAX_MARK_DEPTH,
  MAX_MEMO_ENTRIES,
  MAX_OBJECTS,
  MAX_STACK_DEPTH,
  MAX_TEXT_BYTES,
} from './machine-limits.js';
export type { Anomaly, MachineOptions, PartialRun, PickleResult } from './machine-types.js';

function run(m: MachineState): PickleResult {
  const start = m.pos;
  for (;;) {
    m.opStart = m.pos;
    if (m.pos >= m.input.end) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: m.input.name,
        offset: m.pos,
        what: 'the next opcode (no STOP)',
        need: 1,
        left: 0,
      });
    }
    const code = m.input.read(m.pos, 1)[0]!;
    const op = OPCODES[code];
    if (!op) {
      throw ferryError('FERRY_PICKLE_OPCODE', {
        path: m.input.name,
        offset: m.pos,
        opcode: `0x${code.toString(16).padStart(2, '0')}`,
      });
    }
    m.op = op;
    m.pos++;
    if (op.name === 'STOP') {
      const value = m.pop();
      return {
        value,
        start,
        end: m.pos,
        protocol: m.protocol,
        globals: m.globals,
        calls: m.calls,
        anomalies: m.anomalies,
      };
    }
    step(m, op);
  }
}

/** One opcode: one switch, one loader call (as CPython's load() over its load_* functions). */
function step(m: MachineState, op: OpcodeInfo): void {
  switch (op.name) {
    // --- machine control
    case 'PROTO':
      loadProto(m);
      return;
    case 'FRAME':
      loadFrame(m);
      return;
    // --- constants
    case 'NONE':
      m.push(null);
      return;
    case 'NEWTRUE':
      m.push(true);
      return;
    case 'NEWFALSE':
      m.push(false);
      return;
    case 'INT':
      loadInt(m);
      return;
    case 'LONG':
      loadLong(m);
      return;
    case 'BININT':
      m.push(m.int32('BININT'));
      return;
    case 'BININT1':
      m.push(m.take(1, 'BININT1')[0]!);
      return;
    case 'BININT2':
      m.push(m.uint16('BININT2'));
      return;
    case 'LONG1':
      loadLong1(m);
      return;
    case 'LONG4':
      loadLong4(m);
      return;
    case 'FLOAT':
      loadFloat(m);
      return;
    case 'BINFLOAT':
      loadBinFloat(m);
      return;
    // --- strings
    case 'STRING':
      loadString(m);
      return;
    case 'BINSTRING':
      loadBinString(m);
      return;
    case 'SHORT_BINSTRING':
      loadShortBinString(m);
      return;
    case 'UNICODE':
      loadUnicode(m);
      return;
    case 'SHORT_BINUNICODE':
      loadShortBinUnicode(m);
      return;
    case 'BINUNICODE':
      loadBinUnicode(m);
      return;
    case 'BINUNICODE8':
      loadBinUnicode8(m);
      return;
    // --- bytes: kept as ranges of the input
    case 'SHORT_BINBYTES':
      loadBytes(m, m.take(1, 'length')[0]!, false);
      return;
    case 'BINBYTES':
      loadBytes(m, m.int32('BINBYTES length') >>> 0, false);
      return;
    case 'BINBYTES8':
      loadBytes(m, m.length8('BINBYTES8'), false);
      return;
    case 'BYTEARRAY8':
      loadBytes(m, m.length8('BYTEARRAY8'), true);
      return;
    case 'NEXT_BUFFER':
      loadNextBuffer(m);
      return;
    case 'READONLY_BUFFER':
      loadReadonlyBuffer(m);
      return;
    // --- containers
    case 'EMPTY_LIST':
      loadEmptyList(m);
      return;
    case 'EMPTY_TUPLE':
      m.push(m.tuple([]));
      return;
    case 'EMPTY_DICT':
      loadEmptyDict(m);
      return;
    case 'EMPTY_SET':
      loadEmptySet(m);
      return;
    case 'LIST':
      loadList(m);
      return;
    case 'TUPLE':
      m.push(m.tuple(m.popMark()));
      return;
    case 'TUPLE1':
      loadTuple1(m);
      return;
    case 'TUPLE2':
      loadTuple2(m);
      return;
    case 'TUPLE3':
      loadTuple3(m);
      return;
    case 'DICT':
      loadDict(m);
      return;
    case 'FROZENSET':
      loadFrozenset(m);
      return;
    case 'APPEND':
      addItems(m, [m.pop()], 'APPEND');
      return;
    case 'APPENDS':
      addItems(m, m.popMark(), 'APPENDS');
      return;
    case 'ADDITEMS':
      addItems(m, m.popMark(), 'ADDITEMS');
      return;
    case 'SETITEM':
      loadSetItem(m);
      return;
    case 'SETITEMS':
      loadSetItems(m);
      return;
    // --- stack manipulation
    case 'POP':
      loadPop(m);
      return;
    case 'DUP':
      m.push(m.top());
      return;
    case 'MARK':
      loadMark(m);
      return;
    case 'POP_MARK':
      m.popMark();
      return;
    // --- memo
    case 'GET':
      memoGet(m, memoKey(m, m.asciiLine('GET')));
      return;
    case 'BINGET':
      memoGet(m, m.take(1, 'BINGET')[0]!);
      return;
    case 'LONG_BINGET':
      memoGet(m, m.int32('LONG_BINGET') >>> 0);
      return;
    case 'PUT':
      memoPut(m, memoKey(m, m.asciiLine('PUT')));
      return;
    case 'BINPUT':
      memoPut(m, m.take(1, 'BINPUT')[0]!);
      return;
    case 'LONG_BINPUT':
      memoPut(m, m.int32('LONG_BINPUT') >>> 0);
      return;
    case 'MEMOIZE':
      memoPut(m, m.memo.size);
      return;
    // --- extension registry
    case 'EXT1':
      loadExtension(m, m.take(1, 'EXT1')[0]!);
      return;
    case 'EXT2':
      loadExtension(m, m.uint16('EXT2'));
      return;
    case 'EXT4':
      loadExtension(m, m.int32('EXT4'));
      return;
    // --- globals and calls
    case 'GLOBAL':
      loadGlobal(m);
      return;
    case 'STACK_GLOBAL':
      loadStackGlobal(m);
      return;
    case 'REDUCE':
      loadReduce(m);
      return;
    case 'NEWOBJ':
      loadNewObj(m);
      return;
    case 'NEWOBJ_EX':
      loadNewObjEx(m);
      return;
    case 'INST':
      loadInst(m);
      return;
    case 'OBJ':
      loadObj(m);
      return;
    case 'BUILD':
      loadBuild(m);
      return;
    // --- persistent ids
    case 'PERSID':
      loadPersId(m);
      return;
    case 'BINPERSID':
      loadBinPersId(m);
      return;
    default:
      // Every name in OPCODES is handled above; this guards the table against drift.
      throw ferryError('FERRY_PICKLE_OPCODE', { path: m.input.name, offset: m.opStart, opcode: op.name });
  }
}

/** Runs one pickle starting at `start`; nothing is imported or called. */
export function runPickle(
  input: PickleInput,
  start = input.start,
  options: MachineOptions = {},
): PickleResult {
  return run(new MachineState(input, start, options));
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
  const machine = new MachineState(input, start, options);
  try {
    run(machine);
    return { globals: machine.globals, calls: machine.calls, anomalies: machine.anomalies };
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    return { globals: machine.globals, calls: machine.calls, anomalies: machine.anomalies, error };
  }
}
