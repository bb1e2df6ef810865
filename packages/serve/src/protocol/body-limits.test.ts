import { describe, expect, it } from 'vitest';
import { BODY_HEADROOM_BYTES, MAX_BODY_BYTES, MAX_JSON_BODY_BYTES } from '../limits.js';
import { modelBodyLimits } from './body-limits.js';

describe('modelBodyLimits', () => {
  it('derives the limits from max_batch_size, the fixed dims and the element size', () => {
    // the 4-input MLP: 32 rows of 4 FP32 features each
    const inputs = ['a', 'b', 'c', 'd'].map((name) => ({ name, datatype: 'FP32' as const, shape: [-1, 4] }));
    const limits = modelBodyLimits(inputs, 32, 65_536);
    expect(limits.json).toBe(4 * 32 * 4 * 32 + BODY_HEADROOM_BYTES);
    expect(limits.binary).toBe(limits.json + 4 * 32 * 4 * 4);
  });

  it('bounds variable dimensions by maxVariableDim and caps at the server-wide limits', () => {
    const seq = [{ name: 'ids', datatype: 'INT64' as const, shape: [-1, -1] }];
    expect(modelBodyLimits(seq, 8, 100).binary).toBe(8 * 100 * 32 + BODY_HEADROOM_BYTES + 8 * 100 * 8);
    const image = [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 3, -1, -1] }];
    expect(modelBodyLimits(image, 32, 65_536)).toEqual({ json: MAX_JSON_BODY_BYTES, binary: MAX_BODY_BYTES });
  });

  it('treats a model without batching as one request of its declared shape', () => {
    const fixed = [{ name: 'm', datatype: 'FP64' as const, shape: [2, 3] }];
    expect(modelBodyLimits(fixed, 0, 65_536).binary).toBe(6 * 32 + BODY_HEADROOM_BYTES + 6 * 8);
  });

  it('gives a model with a BYTES input the server-wide caps (a string has no fixed size)', () => {
    const text = [{ name: 's', datatype: 'BYTES' as const, shape: [-1, 1] }];
    expect(modelBodyLimits(text, 4, 65_536)).toEqual({
      json: MAX_JSON_BODY_BYTES,
      binary: MAX_BODY_BYTES,
    });
  });
});
