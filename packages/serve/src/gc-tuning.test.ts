import { describe, expect, it } from 'vitest';
import { tuneGcForServing } from './gc-tuning.js';

describe('tuneGcForServing', () => {
  it("leaves V8's heap growing factor alone when the operator named one", () => {
    expect(tuneGcForServing(['--heap-growing-percent=50'], '')).toEqual(['--no-allocation-site-pretenuring']);
    expect(tuneGcForServing([], '--max-old-space-size=512 --heap_growing_percent=50')).toEqual([
      '--no-allocation-site-pretenuring',
    ]);
  });

  it('leaves pretenuring alone when the operator named it, either way', () => {
    expect(tuneGcForServing(['--allocation-site-pretenuring'], '')).toEqual(['--heap-growing-percent=300']);
    expect(tuneGcForServing([], '--no-allocation_site_pretenuring')).toEqual(['--heap-growing-percent=300']);
    expect(tuneGcForServing(['--allocation-site-pretenuring-x'], '')).toHaveLength(2);
  });

  it('sets both otherwise', () => {
    expect(tuneGcForServing(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([
      '--heap-growing-percent=300',
      '--no-allocation-site-pretenuring',
    ]);
  });
});
