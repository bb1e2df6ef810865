import { describe, expect, it } from 'vitest';
import { brief, describeChange } from './audit.js';

describe('audit entries in words', () => {
  it('lists the fields that changed, as before → after', () => {
    expect(describeChange({ version: 1, protected: false }, { version: 2, protected: false })).toEqual([
      { field: 'version', from: '1', to: '2' },
    ]);
    expect(describeChange(null, { name: 'team/m', tags: { task: 'cls' } })).toEqual([
      { field: 'name', to: 'team/m' },
      { field: 'tags', to: 'task=cls' },
    ]);
    expect(describeChange({ id: 'x' }, null)).toEqual([{ field: 'id', from: 'x' }]);
    // a field null on one side and absent on the other did not change
    expect(describeChange({ sourceUri: null, status: 'pending' }, { status: 'ready' })).toEqual([
      { field: 'status', from: 'pending', to: 'ready' },
    ]);
  });

  it('writes nested values briefly, never as JSON', () => {
    expect(brief([{ path: 'mlp.onnx', sha256: 'ab'.repeat(32), size: 3 }])).toBe('mlp.onnx');
    expect(brief([{ key: 'loss', value: 0.5, step: 1 }])).toBe('loss=0.5');
    expect(brief({ lr: '0.01', epochs: '5' })).toBe('lr=0.01, epochs=5');
    expect(brief(`sha256:${'c'.repeat(64)}`)).toBe('sha256:cccccccccccc…');
    expect(brief({ a: { b: { c: 1 } } })).toBe('a=b=…');
    expect(brief([])).toBe('none');
  });
});
