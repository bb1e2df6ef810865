import { describe, expect, it } from 'vitest';
import {
  attr,
  bytesOf,
  constant,
  F32,
  f32,
  fn,
  node,
  placeholder,
  runGraph,
  signature,
} from '../graph.helper.js';
import { isConvertError } from '../../src/errors.js';

const T = { T: attr.type(F32) };

describe('function inlining', () => {
  it('inlines nested PartitionedCall/StatefulPartitionedCall and calls by function name, remapping args and returns', async () => {
    // outer(x, y) = [inner(x) * y, x + y]; inner(v) = v + 1 via an op named after the function.
    const inner = fn(
      'inner',
      [['v', F32]],
      ['out'],
      [constant('one', F32, [], [1]), node('add', 'AddV2', ['v', 'one:output:0'], T)],
      {
        out: 'add:z:0',
      },
    );
    const outer = fn(
      'outer',
      [
        ['x', F32],
        ['y', F32],
      ],
      ['prod', 'sum'],
      [
        node('call', 'inner', ['x']),
        node('mul', 'Mul', ['call:out:0', 'y'], T),
        node('sum', 'AddV2', ['x', 'y'], T),
        node('id', 'IdentityN', ['mul:z:0', 'sum:z:0']),
      ],
      { prod: 'id:output:0', sum: 'id:output:1' },
    );
    const out = await runGraph(
      [
        placeholder('x', F32),
        placeholder('y', F32),
        node('top', 'StatefulPartitionedCall', ['x', 'y', '^x'], { f: attr.func('outer') }),
        node('res', 'PartitionedCall', ['top:1'], { f: attr.func('wrap') }),
      ],
      signature(
        { x: ['x:0', F32, [2]], y: ['y:0', F32, [2]] },
        { p: ['top:0', F32, [2]], s: ['res:0', F32, [2]] },
      ),
      { x: f32([2], [1, 2]), y: f32([2], [10, 20]) },
      [outer, inner, fn('wrap', [['a', F32]], ['r'], [node('n', 'Neg', ['a'], T)], { r: 'n:y:0' })],
    );
    expect(out.p!.values).toEqual([20, 60]);
    expect(out.s!.values).toEqual([-11, -22]);
  });

  it('an uncovered op inside a function fails naming the op, the node and the function', async () => {
    const f = fn('__inference_call_7', [['x', F32]], ['y'], [node('cum', 'Cumprod', ['x', 'x'], T)], {
      y: 'cum:out:0',
    });
    const err = await runGraph(
      [placeholder('x', F32), node('c', 'PartitionedCall', ['x'], { f: attr.func('__inference_call_7') })],
      signature({ x: ['x:0', F32, null] }, { y: ['c:0', F32, null] }),
      {},
      [f],
    ).catch((e) => e);
    expect(isConvertError(err) && err.code).toBe('FERRY_TF2ONNX_UNSUPPORTED_OP');
    expect(err.message).toBe(
      '<test>: op Cumprod (node c/cum in __inference_call_7) has no ONNX conversion: not in the list of converted ops (ferry inspect --ops shows coverage)',
    );
  });

  it('a recursive library stops at the depth limit; a missing function is named', async () => {
    const loop = fn(
      'loop',
      [['x', F32]],
      ['y'],
      [node('again', 'PartitionedCall', ['x'], { f: attr.func('loop') })],
      {
        y: 'again:output:0',
      },
    );
    const sig = signature({ x: ['x:0', F32, null] }, { y: ['c:0', F32, null] });
    await expect(
      runGraph(
        [placeholder('x', F32), node('c', 'PartitionedCall', ['x'], { f: attr.func('loop') })],
        sig,
        {},
        [loop],
      ),
    ).rejects.toMatchObject({ code: 'FERRY_LIMIT' });
    await expect(
      runGraph(
        [placeholder('x', F32), node('c', 'PartitionedCall', ['x'], { f: attr.func('gone') })],
        sig,
        {},
      ),
    ).rejects.toThrow(/calls function gone, which the library does not define/);
  });

  it('prunes what the outputs do not need (an unconvertible save path is never converted)', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        node('y', 'Neg', ['x'], T),
        node('w', 'WriteFile', ['x', 'x']),
        node('s', 'StringJoin', ['x']),
        // Another signature's call into a function this library lacks is never inlined.
        node('other', 'StatefulPartitionedCall', ['x'], { f: attr.func('missing') }),
      ],
      signature({ x: ['x:0', F32, [1]] }, { y: ['y:0', F32, [1]] }),
      { x: f32([1], [3]) },
    );
    expect(out.y!.values).toEqual([-3]);
  });

  it('freezes VarHandleOp reads (ReadVariableOp, ResourceGather) into initializers', async () => {
    const table = { dtype: F32, dims: [3, 2], bytes: bytesOf(F32, [1, 2, 3, 4, 5, 6]) };
    const out = await runGraph(
      [
        placeholder('ids', 3),
        node('emb', 'VarHandleOp', [], { dtype: attr.type(F32), shape: attr.shape([3, 2]) }),
        node('handle', 'Identity', ['emb']),
        node('rows', 'ResourceGather', ['handle', 'ids'], { dtype: attr.type(F32), Tindices: attr.type(3) }),
        node('read', 'ReadVariableOp', ['emb'], { dtype: attr.type(F32) }),
        constant('axes', 3, [1], [0]),
        node('total', 'Sum', ['read', 'axes'], T),
      ],
      signature({ ids: ['ids:0', 3, [2]] }, { rows: ['rows:0', F32, null], total: ['total:0', F32, null] }),
      { ids: new (await import('onnxruntime-node')).Tensor('int32', Int32Array.from([2, 0]), [2]) },
      [],
      new Map([['emb', table]]),
    );
    expect(out.rows).toEqual({ dims: [2, 2], values: [5, 6, 1, 2] });
    expect(out.total!.values).toEqual([9, 12]);
  });
});

describe('signature names', () => {
  it('an output key that is also an input key is refused (ONNX names are unique)', async () => {
    await expect(
      runGraph(
        [placeholder('x', F32), node('y', 'Neg', ['x'], T)],
        signature({ v: ['x:0', F32, null] }, { v: ['y:0', F32, null] }),
        {},
      ),
    ).rejects.toThrow(/output v: an input has the same key/);
  });
});

describe('TF1 ref variables', () => {
  it('VariableV2 read through its var/read Identity becomes an initializer', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        node('w', 'VariableV2', [], { dtype: attr.type(F32) }),
        node('w/read', 'Identity', ['w'], T),
        node('y', 'Mul', ['x', 'w/read'], T),
      ],
      signature({ x: ['x:0', F32, [2]] }, { y: ['y:0', F32, [2]] }),
      { x: f32([2], [1, 2]) },
      [],
      new Map([['w', { dtype: F32, dims: [2], bytes: bytesOf(F32, [3, 4]) }]]),
    );
    expect(out.y!.values).toEqual([3, 8]);
  });
});
