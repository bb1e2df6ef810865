import type { GgufArray, GgufKeyValue, GgufValue } from './read-gguf.js';

/** Arrays this short (of scalars) are shown in full in the summary. */
const SHOW_ARRAY_VALUES = 8;

/**
 * A FLOAT32 as the shortest decimal that reads back to the same float32 (0.1, not
 * 0.10000000149011612), the way gguf-py and llama.cpp print them.
 */
export function float32Text(value: number): string {
  if (!Number.isFinite(value) || value === 0) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

export function scalarText(type: GgufKeyValue['type'], value: GgufValue): string {
  if (typeof value === 'object') return arraySummary(value);
  if (type === 'FLOAT32' && typeof value === 'number') return float32Text(value);
  return String(value);
}

/** `65 strings`, `3 int32: [1, 2, 3]`, `3 arrays`. */
export function arraySummary(array: GgufArray): string {
  const kind =
    array.elementType === 'STRING'
      ? 'strings'
      : array.elementType === 'ARRAY'
        ? 'arrays'
        : array.elementType.toLowerCase();
  const count = `${array.length} ${kind}`;
  if (array.elementType === 'ARRAY' || array.length > SHOW_ARRAY_VALUES) return count;
  const shown = array.values.map((v) =>
    array.elementType === 'STRING' ? JSON.stringify(v) : scalarText(array.elementType, v),
  );
  return `${count}: [${shown.join(', ')}]`;
}
