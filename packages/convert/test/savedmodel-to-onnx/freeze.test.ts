import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSavedModel, type TfMetaGraph } from '../../src/formats.js';
import { variableKeys } from '../../src/savedmodel-to-onnx/freeze.js';
import { attr, constant, node } from '../graph.helper.js';

const FIXTURES = join(import.meta.dirname, '../../../../../shared/fixtures/savedmodel');

const stringConst = (name: string, values: string[]) => {
  const c = constant(name, 7, [values.length], []);
  const value = c.attr.value as { kind: 'tensor'; value: Record<string, unknown> };
  return {
    ...c,
    attr: {
      ...c.attr,
      value: {
        kind: 'tensor' as const,
        value: {
          ...value.value,
          tensorContent: null,
          stringVal: values.map((v) => new TextEncoder().encode(v)),
        },
      },
    },
  };
};

describe('variable bundle keys', () => {
  it('TF1: follows the saver restore path Assign(var, RestoreV2:i) to tensor_names[i]', () => {
    const meta = {
      graph: {
        nodes: [
          node('kernel_var', 'VariableV2', [], { dtype: attr.type(1) }),
          node('other', 'VariableV2', [], { dtype: attr.type(1) }),
          stringConst('save/names', ['dense/kernel', 'other']),
          node('save/restore', 'RestoreV2', ['save/Const', 'save/names', 'save/slices']),
          node('save/id', 'Identity', ['save/restore']),
          node('save/Assign', 'Assign', ['kernel_var', 'save/id']),
          node('save/Assign_1', 'Assign', ['other', 'save/restore:1']),
        ],
        functions: [],
        versions: null,
      },
      objectGraph: null,
    } as unknown as TfMetaGraph;
    expect(Object.fromEntries(variableKeys(meta, new Set()))).toEqual({
      kernel_var: 'dense/kernel',
      other: 'other',
    });
  });

  it('TF2: a call node binds its captured variables through the object graph (half_plus_two)', async () => {
    const model = await readSavedModel(
      join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123/saved_model.pb'),
    );
    const keys = variableKeys(model.metaGraphs[0]!, new Set());
    expect(keys.get('a')).toBe('a/.ATTRIBUTES/VARIABLE_VALUE');
    expect(keys.get('b')).toBe('b/.ATTRIBUTES/VARIABLE_VALUE');
    expect(keys.get('c')).toBe('c/.ATTRIBUTES/VARIABLE_VALUE');
  });

  it('TF1 half_plus_two: every variable gets its key from the restore ops', async () => {
    const model = await readSavedModel(
      join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123/saved_model.pb'),
    );
    const keys = variableKeys(model.metaGraphs[0]!, new Set());
    expect(Object.fromEntries(keys)).toMatchObject({ a: 'a', b: 'b', c: 'c' });
  });
});
