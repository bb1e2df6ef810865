import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './suggest.js';

describe('closest (did you mean)', () => {
  const commands = ['inspect', 'scan', 'convert', 'push', 'pull', 'models', 'version'];

  it('finds typos: a dropped, added, changed or swapped letter', () => {
    expect(closest('inspet', commands)).toBe('inspect');
    expect(closest('inspectt', commands)).toBe('inspect');
    expect(closest('scna', commands)).toBe('scan');
    expect(closest('modles', commands)).toBe('models');
    expect(closest('pul', commands)).toBe('pull');
  });

  it('finds a word from its start', () => {
    expect(closest('conv', commands)).toBe('convert');
  });

  it('suggests nothing for a word that is not near any', () => {
    expect(closest('frobnicate', commands)).toBeUndefined();
    expect(closest('x', commands)).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
