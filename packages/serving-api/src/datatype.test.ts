import { describe, expect, it } from 'vitest';
import { DATATYPES, DTYPE_OF, datatypeOf, type NumericDatatype } from './datatype.js';

describe('protocol datatypes <-> the dtype table', () => {
  it('maps every numeric datatype to a dtype and back', () => {
    const numeric = DATATYPES.filter((d): d is NumericDatatype => d !== 'BYTES');
    for (const datatype of numeric) expect(datatypeOf(DTYPE_OF[datatype])).toBe(datatype);
  });

  it('has no protocol datatype for dtypes the protocol cannot carry', () => {
    expect(datatypeOf('F8_E4M3')).toBeUndefined();
    expect(datatypeOf('C64')).toBeUndefined();
  });
});
