import { describe, expect, it } from 'vitest';
import { isTorchScriptError } from './errors.js';
import { argumentOrder, declaredTensors, findOutput } from './signature.js';

const CONFIG = 'repo/m/config.yaml';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (!isTorchScriptError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('no error');
}

describe('declaredTensors', () => {
  it('prepends the batch dimension unless max_batch_size is 0', () => {
    const list = [{ name: 'x', datatype: 'FP32' as const, shape: [8] }];
    expect(declaredTensors('inputs', list, true, CONFIG)).toEqual([
      { name: 'x', datatype: 'FP32', shape: [-1, 8] },
    ]);
    expect(declaredTensors('inputs', list, false, CONFIG)).toEqual([
      { name: 'x', datatype: 'FP32', shape: [8] },
    ]);
  });

  it('refuses a missing list, datatype or shape, a duplicate name and a datatype libtorch lacks', () => {
    expect(errorOf(() => declaredTensors('inputs', undefined, true, CONFIG))).toEqual({
      code: 'FERRY_TORCHSCRIPT_CONFIG',
      message:
        'repo/m/config.yaml: inputs: TorchScript archives carry no input signature: list every forward argument with name, datatype and shape under inputs:',
    });
    expect(errorOf(() => declaredTensors('outputs', [], true, CONFIG)).message).toContain(
      'outputs: TorchScript',
    );
    expect(errorOf(() => declaredTensors('inputs', [{ name: 'x', shape: [1] }], true, CONFIG)).message).toBe(
      'repo/m/config.yaml: inputs[0].datatype: x needs a datatype (TorchScript declares none)',
    );
    expect(
      errorOf(() => declaredTensors('inputs', [{ name: 'x', datatype: 'FP32' }], true, CONFIG)).message,
    ).toContain('inputs[0].shape: x needs a shape');
    expect(
      errorOf(() =>
        declaredTensors(
          'inputs',
          [
            { name: 'x', datatype: 'FP32', shape: [1] },
            { name: 'x', datatype: 'FP32', shape: [1] },
          ],
          true,
          CONFIG,
        ),
      ).message,
    ).toContain('inputs[1].name: x is listed twice');
    for (const datatype of ['UINT16', 'UINT32', 'UINT64', 'BYTES'] as const)
      expect(
        errorOf(() => declaredTensors('outputs', [{ name: 'y', datatype, shape: [1] }], true, CONFIG))
          .message,
      ).toBe(`repo/m/config.yaml: outputs[0].datatype: ${datatype} has no libtorch 1.13 tensor type`);
  });
});

describe('argumentOrder', () => {
  const meta = (...names: string[]) =>
    names.map((name) => ({ name, datatype: 'FP32' as const, shape: [-1] }));

  it('matches forward parameter names in any config order', () => {
    expect(argumentOrder(meta('mask', 'ids'), ['ids', 'mask'], CONFIG)).toEqual([1, 0]);
  });

  it("matches Triton's input__N names, else config order", () => {
    expect(argumentOrder(meta('input__1', 'input__0'), ['a', 'b'], CONFIG)).toEqual([1, 0]);
    expect(argumentOrder(meta('p', 'q'), ['a', 'b'], CONFIG)).toEqual([0, 1]);
  });

  it('refuses more inputs than parameters, or names that skip a leading parameter', () => {
    expect(errorOf(() => argumentOrder(meta('a', 'b', 'c'), ['a', 'b'], CONFIG)).message).toBe(
      "repo/m/config.yaml: inputs: lists 3 inputs but the model's forward(a, b) takes 2",
    );
    expect(errorOf(() => argumentOrder(meta('b'), ['a', 'b'], CONFIG)).message).toContain(
      'needs a before them',
    );
    expect(errorOf(() => argumentOrder(meta('input__1'), ['a', 'b'], CONFIG)).message).toContain(
      'no input__0',
    );
  });
});

describe('findOutput', () => {
  const positional = [{ name: 'output__0' }, { name: 'output__1' }];
  it('finds by name (dict key or output__N), else by position for tuple results', () => {
    expect(findOutput([{ name: 'label' }, { name: 'scores' }], 'scores', 0)).toEqual({ name: 'scores' });
    expect(findOutput(positional, 'output__1', 0)).toEqual({ name: 'output__1' });
    expect(findOutput(positional, 'probs', 1)).toEqual({ name: 'output__1' });
    expect(findOutput(positional, 'output__2', 0)).toBeUndefined();
    expect(findOutput([{ name: 'label' }], 'scores', 0)).toBeUndefined();
  });
});
