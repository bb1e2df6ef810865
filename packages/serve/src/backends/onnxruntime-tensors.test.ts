import { describe, expect, it } from 'vitest';
import { concatRows, ownedByBatch, type Tensor } from '@ferry/serving-api';
import { fromOrtData, toOrtData } from './onnxruntime-tensors.js';

const floats = [1.5, -2, 3.25];
/** FP32 bytes at `offset` inside a larger buffer, as a request body's binary data sits. */
function fp32At(offset: number): Tensor {
  const body = new Uint8Array(offset + 12);
  body.set(new Uint8Array(new Float32Array(floats).buffer), offset);
  return { datatype: 'FP32', shape: [1, 3], bytes: body.subarray(offset) };
}

describe('tensors to and from onnxruntime-node', () => {
  it('view: reads aligned bytes in place and copies a view whose offset does not suit FP32', () => {
    const aligned = fp32At(8);
    const inPlace = toOrtData('x', aligned, 'view').data as Float32Array;
    expect([...inPlace]).toEqual(floats);
    expect(inPlace.buffer).toBe((aligned as { bytes: Uint8Array }).bytes.buffer);
    const odd = fp32At(107);
    const copied = toOrtData('x', odd, 'view').data as Float32Array;
    expect([...copied]).toEqual(floats);
    expect(copied.buffer).not.toBe((odd as { bytes: Uint8Array }).bytes.buffer);
  });

  it('own: moves a batch buffer as it is and copies a request view into a batch buffer of its own', () => {
    const batch = concatRows('FP32', [fp32At(0), fp32At(4)]);
    const moved = toOrtData('x', batch, 'own').data as Float32Array;
    expect(moved.buffer).toBe((batch as { bytes: Uint8Array }).bytes.buffer);
    const view = fp32At(8);
    const own = toOrtData('x', view, 'own').data as Float32Array;
    expect(own.buffer).not.toBe((view as { bytes: Uint8Array }).bytes.buffer);
    expect(ownedByBatch(new Uint8Array(own.buffer, own.byteOffset, own.byteLength))).toBe(true);
    expect(own.byteOffset).toBe(0);
    expect([...own]).toEqual(floats);
  });

  it('strings go as UTF-8 text and come back as bytes; BF16 is refused', () => {
    const text = toOrtData(
      's',
      { datatype: 'BYTES', shape: [2], strings: [Buffer.from('ä'), Buffer.from('b')] },
      'view',
    );
    expect(text).toMatchObject({ type: 'string', dims: [2], data: ['ä', 'b'] });
    const back = fromOrtData({ name: 's', type: 'string', dims: [2], data: ['ä', 'b'] });
    expect(back).toEqual({
      datatype: 'BYTES',
      shape: [2],
      strings: [new TextEncoder().encode('ä'), new TextEncoder().encode('b')],
    });
    expect(() => toOrtData('h', { datatype: 'BF16', shape: [1], bytes: new Uint8Array(2) }, 'view')).toThrow(
      /cannot carry BF16/,
    );
  });
});
