import { describe, expect, it } from 'vitest';
import { clockTick, valueTicks } from './chart.js';

describe('chart ticks', () => {
  it('labels every tick with the decimals its step needs, without float noise', () => {
    expect(valueTicks([0, 0.25, 0.5, 0.75], 0.25)).toEqual(['0.00', '0.25', '0.50', '0.75']);
    expect(valueTicks([0, 0.1, 0.2, 0.30000000000000004], 0.1)).toEqual(['0.0', '0.1', '0.2', '0.3']);
    expect(valueTicks([0, 20, 40], 20)).toEqual(['0', '20', '40']);
    expect(valueTicks([0, 0.05, 0.1], 0.05)).toEqual(['0.00', '0.05', '0.10']);
    expect(valueTicks([-1e-17, 0.5], 0.5)).toEqual(['0.0', '0.5']);
    expect(valueTicks([0, 2.5, 5], 2.5)).toEqual(['0.0', '2.5', '5.0']);
  });

  it('writes time ticks as the wall clock', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5).getTime() / 1000;
    expect(clockTick(t)).toBe('03:04:05');
  });
});
