import { IMPORT_MAPPING, NAME_MAPPING } from './compat-names.js';

/**
 * The (module, name) CPython's Unpickler.find_class imports for a name a pickle wrote, when it
 * differs: with fix_imports (pickle.load's default) and a protocol below 3, NAME_MAPPING by
 * (module, name) first, else IMPORT_MAPPING by module (Lib/pickle.py find_class, _pickle.c
 * _pickle_Unpickler_find_class_impl). `__builtin__.xrange` is `builtins.range`, `__builtin__.reduce`
 * is `functools.reduce`. Protocol 3 and above are written by Python 3 only and are not mapped.
 */
export function compatName(protocol: number, module: string, name: string): [string, string] | undefined {
  if (protocol >= 3) return undefined;
  const pair = NAME_MAPPING.get(`${module}\n${name}`);
  if (pair) return [pair[0], pair[1]];
  const renamed = IMPORT_MAPPING.get(module);
  return renamed === undefined ? undefined : [renamed, name];
}
