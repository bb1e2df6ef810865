import { describe, expect, it } from 'vitest';
import { formatBytes, formatPercent } from './format.js';

describe('figures as the pages write them', () => {
  it('writes a share with one decimal, never rounding a part to nothing or to the whole', () => {
    expect(formatPercent(3, 4)).toBe('75.0%');
    expect(formatPercent(0, 4)).toBe('0.0%');
    expect(formatPercent(4, 4)).toBe('100.0%');
    expect(formatPercent(1, 100_000)).toBe('<0.1%');
    expect(formatPercent(99_999, 100_000)).toBe('>99.9%');
    expect(formatPercent(0, 0)).toBe('-');
  });

  it('writes bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(512 * 1024)).toBe('512.0 KiB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
