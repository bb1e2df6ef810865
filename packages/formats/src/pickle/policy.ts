import { type FindingKind, finding } from '../finding-kinds.js';
import type { Finding, Severity } from '../model.js';
import { isAllowedGlobal } from './allowlist.js';
import { compatName } from './compat-name.js';
import { dangerReason } from './denylist.js';
import { REFUSED_NAMES } from './refused-names.js';
import { MASKED_RECONSTRUCTORS, NDARRAY_RECONSTRUCTORS } from './numpy-classes.js';
import type { PickleResult } from './machine.js';
import { isNode, type PickleValue, type PyCall, type PyGlobal } from './values.js';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type GlobalVerdict =
  | { readonly kind: 'allowed'; readonly name: string }
  | { readonly kind: 'dangerous'; readonly name: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly name: string }
  | { readonly kind: 'unresolvable'; readonly name: string };

/**
 * Judges one global by the name CPython imports (the machine has applied find_class's Python 2
 * mapping for protocols < 3). For severity only, a Python 2 name in a protocol-3+ pickle is
 * also judged as if mapped: `__builtin__.eval` does not import there, but it is no accident.
 */
export function judgeGlobal(g: PyGlobal): GlobalVerdict {
  if (g.module === null || g.name === null) return { kind: 'unresolvable', name: '<unresolvable>' };
  const name = `${g.module}.${g.name}`;
  if (isAllowedGlobal(name)) return { kind: 'allowed', name };
  const [module, attr] = compatName(0, g.module, g.name) ?? [g.module, g.name];
  const reason = dangerReason(g.module, g.name) ?? dangerReason(module, attr);
  if (reason) return { kind: 'dangerous', name, reason };
  return { kind: 'unknown', name };
}

export interface JudgeOptions {
  /** Names a byte offset for a finding's location (`archive/data.pkl byte 42`). */
  readonly locate: (offset: number) => string;
  /** Names the container's own loader resolves without Python (TorchScript's class types). */
  readonly extraAllowed?: (name: string) => boolean;
}

/** Argument positions that an allowed reconstructor will itself call (so they are callables too). */
function calledArguments(call: PyCall): PickleValue[] {
  const name = isNode(call.callee) && call.callee.kind === 'global' ? judgeGlobal(call.callee).name : '';
  // copyreg._reconstructor(cls, base, state) runs base.__new__(cls) and base.__init__(obj, state);
  // __newobj__(cls, *args) and __newobj_ex__(cls, args, kwargs) run cls.__new__: judge cls and
  // base as callees, so a Popen base or a dangerous class does not pass as data.
  if (name === 'copyreg._reconstructor') return call.args.slice(0, 2);
  if (name === 'copyreg.__newobj__' || name === 'copyreg.__newobj_ex__') return call.args.slice(0, 1);
  // numpy's _reconstruct(subtype, ...) runs ndarray.__new__(subtype) (and the subclass's
  // __array_finalize__); _mareconstruct(subtype, baseclass, ...) makes both: the classes are callees.
  if (NDARRAY_RECONSTRUCTORS.has(name)) return call.args.slice(0, 1);
  // numpy.random's pickle helpers instantiate a class they are given (numpy >= 2) or call a
  // constructor: __bit_generator_ctor(cls_or_name), __generator_ctor(name_or_bitgen, ctor).
  // Names (strings, numpy 1.x) and instances are data; a global there is judged as a callee.
  if (name === 'numpy.random._pickle.__bit_generator_ctor') return call.args.slice(0, 1).filter(isGlobal);
  if (name === 'numpy.random._pickle.__generator_ctor' || name === 'numpy.random._pickle.__randomstate_ctor')
    return call.args.slice(0, 2).filter(isGlobal);
  if (MASKED_RECONSTRUCTORS.has(name)) return call.args.slice(0, 2);
  // torch 2.x: _rebuild_from_type_v2(func, new_type, args, state) calls func(*args) and may
  // make new_type: both must pass the same judgement as a callee.
  if (
    isNode(call.callee) &&
    call.callee.kind === 'global' &&
    judgeGlobal(call.callee).name === 'torch._tensor._rebuild_from_type_v2'
  ) {
    return call.args.slice(0, 2);
  }
  return [];
}

function isGlobal(value: PickleValue): boolean {
  return isNode(value) && value.kind === 'global';
}

function calleeText(value: PickleValue): string {
  if (!isNode(value))
    return typeof value === 'string'
      ? `the string ${JSON.stringify(value.slice(0, 40))}`
      : `a ${typeof value}`;
  if (value.kind === 'call') return 'the result of another call';
  if (value.kind === 'ext') return `extension-registry code ${value.code}`;
  return `a ${value.kind} value`;
}

/**
 * Every finding in a set of pickles: each call whose callee is not an allowed global, each
 * global that is referenced but not allowed, and the machine's anomalies (module mutation,
 * unresolvable STACK_GLOBAL, extension codes, out-of-band buffers). Repeats of one rule and
 * name are reported once, at their first offset.
 */
export function judgePickles(results: readonly PickleResult[], options: JudgeOptions): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (rule: FindingKind, message: string, offset: number) => {
    const key = `${rule}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(finding(rule, message, options.locate(offset)));
  };
  for (const result of results) {
    const callees = new Set<PyGlobal>();
    for (const call of result.calls) {
      for (const callee of [call.callee, ...calledArguments(call)]) {
        if (isNode(callee) && callee.kind === 'global') {
          callees.add(callee);
          const verdict = judgeGlobal(callee);
          if (verdict.kind === 'allowed' || options.extraAllowed?.(verdict.name)) continue;
          if (verdict.kind === 'dangerous') {
            add('dangerous-call', `calls ${verdict.name}: ${verdict.reason}`, call.offset);
          } else if (verdict.kind === 'unresolvable') {
            add('unresolvable-call', 'calls a global whose name is built at load time', call.offset);
          } else {
            const why = REFUSED_NAMES.get(verdict.name) ?? 'which is not a known data reconstructor';
            add('unknown-call', `calls ${verdict.name}, ${why}`, call.offset);
          }
        } else if (isNode(callee) && (callee.kind === 'call' || callee.kind === 'ext')) {
          add('indirect-call', `${call.opcode} calls ${calleeText(callee)}`, call.offset);
        } else {
          add('odd-call', `${call.opcode} calls ${calleeText(callee)}`, call.offset);
        }
      }
    }
    for (const g of result.globals) {
      if (callees.has(g)) continue;
      const verdict = judgeGlobal(g);
      if (verdict.kind === 'allowed' || options.extraAllowed?.(verdict.name)) continue;
      if (verdict.kind === 'dangerous') {
        add('dangerous-global', `references ${verdict.name}: ${verdict.reason}`, g.offset);
      } else if (verdict.kind === 'unknown') {
        add('unknown-global', `references ${verdict.name}, which is not a known data class`, g.offset);
      }
      // Unresolvable globals are reported by the machine's anomaly below.
    }
    for (const a of result.anomalies) add(a.rule, a.message, a.offset);
  }
  return findings.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
}
