/** The pickle machine's limits: every count and size a pickle stream controls. */

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
