/**
 * Every pickle opcode of protocols 0-5, as CPython's Lib/pickletools.py lists them: the byte,
 * its name, how its argument is encoded in the stream, and the protocol that introduced it.
 */
export type ArgKind =
  | 'none'
  | 'uint1'
  | 'uint2'
  | 'int4'
  | 'uint4'
  | 'uint8'
  | 'long1'
  | 'long4'
  | 'decimalnl_short'
  | 'decimalnl_long'
  | 'floatnl'
  | 'float8'
  | 'stringnl'
  | 'stringnl_noescape'
  | 'stringnl_noescape_pair'
  | 'unicodestringnl'
  | 'string1'
  | 'string4'
  | 'bytes1'
  | 'bytes4'
  | 'bytes8'
  | 'bytearray8'
  | 'unicodestring1'
  | 'unicodestring4'
  | 'unicodestring8';

export interface OpcodeInfo {
  readonly code: number;
  readonly name: string;
  readonly arg: ArgKind;
  readonly proto: number;
}

const ch = (c: string): number => c.charCodeAt(0);

const LIST: readonly [number, string, ArgKind, number][] = [
  // Integers
  [ch('I'), 'INT', 'decimalnl_short', 0],
  [ch('J'), 'BININT', 'int4', 1],
  [ch('K'), 'BININT1', 'uint1', 1],
  [ch('M'), 'BININT2', 'uint2', 1],
  [ch('L'), 'LONG', 'decimalnl_long', 0],
  [0x8a, 'LONG1', 'long1', 2],
  [0x8b, 'LONG4', 'long4', 2],
  // Strings and bytes
  [ch('S'), 'STRING', 'stringnl', 0],
  [ch('T'), 'BINSTRING', 'string4', 1],
  [ch('U'), 'SHORT_BINSTRING', 'string1', 1],
  [ch('B'), 'BINBYTES', 'bytes4', 3],
  [ch('C'), 'SHORT_BINBYTES', 'bytes1', 3],
  [0x8e, 'BINBYTES8', 'bytes8', 4],
  [0x96, 'BYTEARRAY8', 'bytearray8', 5],
  [0x97, 'NEXT_BUFFER', 'none', 5],
  [0x98, 'READONLY_BUFFER', 'none', 5],
  [ch('N'), 'NONE', 'none', 0],
  [0x88, 'NEWTRUE', 'none', 2],
  [0x89, 'NEWFALSE', 'none', 2],
  [ch('V'), 'UNICODE', 'unicodestringnl', 0],
  [0x8c, 'SHORT_BINUNICODE', 'unicodestring1', 4],
  [ch('X'), 'BINUNICODE', 'unicodestring4', 1],
  [0x8d, 'BINUNICODE8', 'unicodestring8', 4],
  [ch('F'), 'FLOAT', 'floatnl', 0],
  [ch('G'), 'BINFLOAT', 'float8', 1],
  // Containers
  [ch(']'), 'EMPTY_LIST', 'none', 1],
  [ch('a'), 'APPEND', 'none', 0],
  [ch('e'), 'APPENDS', 'none', 1],
  [ch('l'), 'LIST', 'none', 0],
  [ch(')'), 'EMPTY_TUPLE', 'none', 1],
  [ch('t'), 'TUPLE', 'none', 0],
  [0x85, 'TUPLE1', 'none', 2],
  [0x86, 'TUPLE2', 'none', 2],
  [0x87, 'TUPLE3', 'none', 2],
  [ch('}'), 'EMPTY_DICT', 'none', 1],
  [ch('d'), 'DICT', 'none', 0],
  [ch('s'), 'SETITEM', 'none', 0],
  [ch('u'), 'SETITEMS', 'none', 1],
  [0x8f, 'EMPTY_SET', 'none', 4],
  [0x90, 'ADDITEMS', 'none', 4],
  [0x91, 'FROZENSET', 'none', 4],
  // Stack manipulation
  [ch('0'), 'POP', 'none', 0],
  [ch('2'), 'DUP', 'none', 0],
  [ch('('), 'MARK', 'none', 0],
  [ch('1'), 'POP_MARK', 'none', 1],
  // Memo
  [ch('g'), 'GET', 'decimalnl_short', 0],
  [ch('h'), 'BINGET', 'uint1', 1],
  [ch('j'), 'LONG_BINGET', 'uint4', 1],
  [ch('p'), 'PUT', 'decimalnl_short', 0],
  [ch('q'), 'BINPUT', 'uint1', 1],
  [ch('r'), 'LONG_BINPUT', 'uint4', 1],
  [0x94, 'MEMOIZE', 'none', 4],
  // Extension registry (copyreg)
  [0x82, 'EXT1', 'uint1', 2],
  [0x83, 'EXT2', 'uint2', 2],
  [0x84, 'EXT4', 'int4', 2],
  // Objects
  [ch('c'), 'GLOBAL', 'stringnl_noescape_pair', 0],
  [0x93, 'STACK_GLOBAL', 'none', 4],
  [ch('R'), 'REDUCE', 'none', 0],
  [ch('b'), 'BUILD', 'none', 0],
  [ch('i'), 'INST', 'stringnl_noescape_pair', 0],
  [ch('o'), 'OBJ', 'none', 1],
  [0x81, 'NEWOBJ', 'none', 2],
  [0x92, 'NEWOBJ_EX', 'none', 4],
  // Machine control
  [0x80, 'PROTO', 'uint1', 2],
  [ch('.'), 'STOP', 'none', 0],
  [0x95, 'FRAME', 'uint8', 4],
  // Persistent ids
  [ch('P'), 'PERSID', 'stringnl_noescape', 0],
  [ch('Q'), 'BINPERSID', 'none', 1],
];

/** Indexed by opcode byte; undefined for bytes that are no opcode. */
export const OPCODES: readonly (OpcodeInfo | undefined)[] = (() => {
  const table = new Array<OpcodeInfo | undefined>(256).fill(undefined);
  for (const [code, name, arg, proto] of LIST) table[code] = { code, name, arg, proto };
  return table;
})();

export const OPCODE_BY_NAME: Readonly<Record<string, OpcodeInfo>> = Object.fromEntries(
  LIST.map(([code, name, arg, proto]) => [name, { code, name, arg, proto }]),
);

/** The highest protocol CPython writes and reads (Lib/pickle.py HIGHEST_PROTOCOL). */
export const HIGHEST_PROTOCOL = 5;
