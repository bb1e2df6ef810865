import { PyTuple, type PyValue, parsePyLiteral } from './py-literal.js';

/**
 * descriptor.c `_check_for_commastring` (NumPy 1.24): a digit first (after a byte order), `()`
 * first (after a byte order when more follows), or a comma outside `[]` makes `numpy.dtype(str)`
 * hand the string to `numpy.core._internal._commastring`.
 */
export function isCommastring(text: string): boolean {
  if (/^\d/.test(text) || /^[<>|=]\d/.test(text)) return true;
  if (text.startsWith('()') || (text.length > 3 && /^[<>|=]\(\)/.test(text))) return true;
  let bracket = 0;
  for (const char of text) {
    if (char === '[') bracket++;
    else if (char === ']') bracket--;
    else if (char === ',' && bracket === 0) return true;
  }
  return false;
}

// numpy/core/_internal.py format_re, sep_re, space_re; \s as Python's re has it for ASCII.
const FORMAT =
  /(?<order1>[<>|=]?)(?<repeats> *[(]?[ ,0-9]*[)]? *)(?<order2>[<>|=]?)(?<dtype>[A-Za-z0-9.?]*(?:\[[a-zA-Z0-9,.]+\])?)/y;
const SEP = /[ \t\n\r\f\v\x1c-\x1f]*,[ \t\n\r\f\v\x1c-\x1f]*/y;
const SPACE_TO_END = /[ \t\n\r\f\v\x1c-\x1f]+$/y;

/**
 * What `numpy.dtype('i4, (2,)O')` means, as the descr numpy then converts: one item is that item
 * (`'2O'` is `('O', 2)`); several are fields `f0`, `f1`... packed (descriptor.c
 * `_convert_from_commastring` / `_convert_from_list`, which drops a trailing empty item).
 * `refused` says why where numpy raises.
 */
export function commastringDescr(text: string): { readonly descr: PyValue } | { readonly refused: string } {
  const items: PyValue[] = [];
  let at = 0;
  while (at < text.length) {
    FORMAT.lastIndex = at;
    const match = FORMAT.exec(text)!; // every group is optional: it always matches
    const { order1, repeats, order2, dtype } = match.groups as Record<string, string>;
    at = FORMAT.lastIndex;
    if (at < text.length) {
      SPACE_TO_END.lastIndex = at;
      if (SPACE_TO_END.test(text)) at = text.length;
      else {
        SEP.lastIndex = at;
        if (!SEP.test(text)) return { refused: `format number ${items.length + 1} is not recognized` };
        at = SEP.lastIndex;
      }
    }
    let order: string;
    if (order2 === '') order = order1!;
    else if (order1 === '') order = order2!;
    else {
      // _convorder maps '=' to the native order ('<' here) before comparing.
      const a = order1 === '=' ? '<' : order1;
      const b = order2 === '=' ? '<' : order2;
      if (a !== b) return { refused: `inconsistent byte-order specification ${order1} and ${order2}` };
      order = a!;
    }
    if (order === '|' || order === '=' || order === '<') order = '';
    const str = order + dtype;
    if (repeats === '') {
      items.push(str);
      continue;
    }
    // ast.literal_eval(repeats): '2,3' is the tuple (2, 3) in eval mode.
    const source = repeats!.includes(',') && !repeats!.includes('(') ? `(${repeats})` : repeats!;
    let shape: PyValue;
    try {
      shape = parsePyLiteral(source, 'repeat', 0);
    } catch {
      return { refused: `repeat count ${JSON.stringify(repeats)} is not a Python literal` };
    }
    items.push(new PyTuple([str, shape]));
  }
  if (items.length === 1) return { descr: items[0]! };
  if (items.at(-1) === '') items.pop();
  if (items.length === 0) return { refused: 'no fields' };
  return { descr: items.map((item, i) => new PyTuple([`f${i}`, item])) };
}
