import { describe, expect, it } from 'vitest';
import { tuneGcForServing } from './gc-tuning.js';

describe('tuneGcForServing', () => {
  it("leaves V8's heap growing factor alone when the operator named one", () => {
    expect(tuneGcForServing(['--heap-growing-percent=50'], '')).toBe(false);
    expect(tuneGcForServing([], '--max-old-space-size=512 --heap_growing_percent=50')).toBe(false);
  });

  it('sets it otherwise', () => {
    expect(tuneGcForServing(['--enable-source-maps'], '--max-old-space-size=512')).toBe(true);
  });
});
