import { globalName, type PickleValue } from './values.js';

/** Characters of rendered graph shown by `inspect --unsafe-inspect` (CWE-770). */
export const MAX_RENDER_CHARS = 4000;
/** Nesting rendered before `...`. */
const MAX_RENDER_DEPTH = 12;

/**
 * The graph as the Python it stands for (`getattr(importlib.import_module('os'), 'system')('id')`),
 * so a reviewer sees what loading the file would do. Bounded in size and depth; cycles print
 * as `<cycle>`. This is text only: nothing is resolved or called.
 */
export function renderGraph(root: PickleValue, maxChars = MAX_RENDER_CHARS): string {
  let out = '';
  const onPath = new Set<object>();
  const emit = (text: string) => {
    if (out.length < maxChars) out += text;
  };
  const list = (items: readonly PickleValue[], depth: number) => {
    items.forEach((item, i) => {
      if (i > 0) emit(', ');
      walk(item, depth + 1);
    });
  };
  const walk = (value: PickleValue, depth: number): void => {
    if (out.length >= maxChars) return;
    if (value === null) {
      emit('None');
      return;
    }
    if (typeof value === 'boolean') {
      emit(value ? 'True' : 'False');
      return;
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      emit(String(value));
      return;
    }
    if (typeof value === 'string') {
      emit(JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value));
      return;
    }
    if (depth > MAX_RENDER_DEPTH) {
      emit('...');
      return;
    }
    if (onPath.has(value)) {
      emit('<cycle>');
      return;
    }
    onPath.add(value);
    switch (value.kind) {
      case 'bytes':
        emit(`<${value.length} bytes>`);
        break;
      case 'tuple':
        emit('(');
        list(value.items, depth);
        emit(value.items.length === 1 ? ',)' : ')');
        break;
      case 'list':
        emit('[');
        list(value.items, depth);
        emit(']');
        break;
      case 'set':
      case 'frozenset':
        emit(`${value.kind}([`);
        list(value.items, depth);
        emit('])');
        break;
      case 'dict':
        emit('{');
        value.entries.forEach(([k, v], i) => {
          if (i > 0) emit(', ');
          walk(k, depth + 1);
          emit(': ');
          walk(v, depth + 1);
        });
        emit('}');
        break;
      case 'global':
        emit(value.module === null ? 'getattr(<unresolvable>)' : globalName(value));
        break;
      case 'call':
        walk(value.callee, depth + 1);
        emit('(');
        list(value.args, depth);
        emit(')');
        for (const state of value.states) {
          emit('.__setstate__(');
          walk(state, depth + 1);
          emit(')');
        }
        if (value.listItems.length > 0) {
          emit('.extend([');
          list(value.listItems, depth);
          emit('])');
        }
        if (value.dictItems.length > 0) {
          emit('.update({');
          value.dictItems.forEach(([k, v], i) => {
            if (i > 0) emit(', ');
            walk(k, depth + 1);
            emit(': ');
            walk(v, depth + 1);
          });
          emit('})');
        }
        break;
      case 'setstate':
        walk(value.obj, depth + 1);
        emit('.__setstate__(');
        walk(value.state, depth + 1);
        emit(')');
        break;
      case 'persid':
        emit('persistent_load(');
        walk(value.value, depth + 1);
        emit(')');
        break;
      case 'ext':
        emit(`copyreg_extension(${value.code})`);
        break;
      case 'buffer':
        emit(`out_of_band_buffer(${value.index})`);
        break;
    }
    onPath.delete(value);
  };
  walk(root, 0);
  return out.length >= maxChars ? `${out.slice(0, maxChars)}...` : out;
}
