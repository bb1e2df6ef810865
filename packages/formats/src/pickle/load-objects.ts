/**
 * Opcode loaders for globals and calls, kept inert: GLOBAL/STACK_GLOBAL/INST name a global
 * (never import it), REDUCE/NEWOBJ(_EX)/INST/OBJ record a call (never make it), BUILD records
 * the state it would set; persistent ids and copyreg extension codes stay opaque references.
 */
import type { MachineState } from './machine-state.js';

export function loadGlobal(m: MachineState): void {
  const module = m.nameLine('module');
  const name = m.nameLine('name');
  m.push(m.makeGlobal(module, name, 'GLOBAL'));
}

export function loadStackGlobal(m: MachineState): void {
  const name = m.pop();
  const module = m.pop();
  if (typeof module === 'string' && typeof name === 'string') {
    m.push(m.makeGlobal(module, name, 'STACK_GLOBAL'));
    return;
  }
  // CPython requires two strs here; with memo tricks the runtime values may be strs our
  // inert graph cannot know (a module attribute rewritten by BUILD). Never guess: keep it.
  m.anomaly('unresolvable-global', 'STACK_GLOBAL operands are not plain strings');
  m.push(m.makeGlobal(null, null, 'STACK_GLOBAL', [module, name]));
}

export function loadReduce(m: MachineState): void {
  const args = m.pop();
  const callee = m.pop();
  m.push(m.makeCall('REDUCE', callee, m.argsOf(args)));
}

export function loadNewObj(m: MachineState): void {
  const args = m.pop();
  const cls = m.pop();
  m.push(m.makeCall('NEWOBJ', cls, m.argsOf(args)));
}

export function loadNewObjEx(m: MachineState): void {
  const kwargs = m.pop();
  const args = m.pop();
  const cls = m.pop();
  m.push(m.makeCall('NEWOBJ_EX', cls, m.argsOf(args), kwargs));
}

export function loadInst(m: MachineState): void {
  const module = m.nameLine('module');
  const name = m.nameLine('name');
  const args = m.popMark();
  m.push(m.makeCall('INST', m.makeGlobal(module, name, 'INST'), args));
}

export function loadObj(m: MachineState): void {
  const items = m.popMark();
  if (items.length === 0) m.stackError('OBJ needs a class');
  m.push(m.makeCall('OBJ', items[0]!, items.slice(1)));
}

export function loadBuild(m: MachineState): void {
  const state = m.pop();
  const obj = m.top();
  m.mutate(obj, 'BUILD');
  if (obj !== null && typeof obj === 'object' && obj.kind === 'call') {
    obj.states.push(state);
    m.nest(obj, [state]);
    const hook = m.options.afterBuild?.(obj, m.pos, m.input);
    if (hook) {
      m.pos = hook.position;
      m.stack[m.stack.length - 1] = hook.value;
    }
    return;
  }
  m.stack[m.stack.length - 1] = { kind: 'setstate', obj, state, offset: m.opStart };
}

// --- persistent ids

export function loadPersId(m: MachineState): void {
  m.push({ kind: 'persid', value: m.asciiLine('PERSID'), offset: m.opStart });
}

export function loadBinPersId(m: MachineState): void {
  const value = m.pop();
  m.push({ kind: 'persid', value, offset: m.opStart });
}

// --- extension registry

/** EXT1, EXT2, EXT4 once their code is read. */
export function loadExtension(m: MachineState, code: number): void {
  if (code <= 0) m.valueError(`extension code ${code} is not positive`);
  // copyreg's registry is empty unless a program fills it: the name is not in the file.
  m.anomaly('extension-registry', `${m.op.name} names global #${code} of copyreg's extension registry`);
  m.push({ kind: 'ext', code, offset: m.opStart });
}
