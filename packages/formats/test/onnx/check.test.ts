import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/onnx/check.js';
import { decodeModel } from '../../src/onnx/codec.js';
import type { OnnxGraph, OnnxModel, OnnxNode } from '../../src/onnx/schema.js';

const node = (op: string, input: string[], output: string[], name = ''): OnnxNode => ({
  op_type: op,
  input,
  output,
  name,
});

function model(graph: Partial<OnnxGraph>, extra: Partial<OnnxModel> = {}): OnnxModel {
  return {
    ir_version: 8n,
    opset_import: [{ domain: '', version: 13n }],
    graph: { name: 'g', input: [{ name: 'x' }], output: [{ name: 'y' }], ...graph },
    ...extra,
  };
}

const rules = (m: OnnxModel) => checkModel(m).map((p) => `${p.rule}@${p.node ?? p.graph}`);

describe('ONNX structural check', () => {
  it('passes a well-formed graph, including optional empty inputs', () => {
    const m = model({
      initializer: [{ name: 'w', data_type: 1, dims: [1n], float_data: [1] }],
      node: [node('Add', ['x', 'w'], ['a'], 'add'), node('Clip', ['a', '', ''], ['y'], 'clip')],
    });
    expect(checkModel(m)).toEqual([]);
  });

  it('passes the torch-exported fixtures', () => {
    for (const name of ['mlp.onnx', 'cnn.onnx', 'typed.onnx']) {
      const bytes = readFileSync(new URL(`../../../../fixtures/onnx/${name}`, import.meta.url));
      expect(checkModel(decodeModel(bytes))).toEqual([]);
    }
  });

  it('finds a value produced twice (SSA), also when a node overwrites a graph input', () => {
    const m = model({
      node: [
        node('Relu', ['x'], ['y'], 'a'),
        node('Relu', ['x'], ['y'], 'b'),
        node('Neg', ['y'], ['x'], 'c'),
      ],
    });
    expect(rules(m)).toEqual(['ssa@b', 'ssa@c']);
  });

  it('tells a node out of topological order from an input that is never defined', () => {
    const m = model({
      node: [
        node('Relu', ['a'], ['y'], 'late'),
        node('Neg', ['x'], ['a'], 'early'),
        node('Add', ['x', 'ghost'], ['z'], 'lost'),
      ],
    });
    const problems = checkModel(m);
    expect(problems.map((p) => p.rule)).toEqual(['topological-order', 'undefined-input']);
    expect(problems[0]!.message).toContain('"a" is produced by node early');
    expect(problems[1]!.node).toBe('lost');
  });

  it('finds empty and duplicate initializer names', () => {
    const t = { data_type: 1, dims: [] as bigint[], float_data: [0] };
    const m = model({
      initializer: [
        { ...t, name: '' },
        { ...t, name: 'w' },
        { ...t, name: 'w' },
      ],
      node: [node('Add', ['x', 'w'], ['y'])],
    });
    expect(rules(m)).toEqual(['initializer-name-empty@main', 'initializer-name-duplicate@main']);
  });

  it('needs an opset import for the model and for every domain a node uses', () => {
    expect(rules(model({ node: [node('Relu', ['x'], ['y'])] }, { opset_import: [] }))).toEqual([
      'opset-missing@model',
    ]);
    const m = model({ node: [{ ...node('Custom', ['x'], ['y'], 'c'), domain: 'com.example' }] });
    expect(rules(m)).toEqual(['opset-missing@c']);
  });

  it('lets a subgraph read the outer scope, but not values produced after its node', () => {
    const body: OnnxGraph = {
      name: 'body',
      input: [],
      output: [{ name: 'out' }],
      node: [node('Add', ['x', 'before'], ['out'], 'inner')],
    };
    const ok = model({
      node: [
        node('Neg', ['x'], ['before'], 'neg'),
        { ...node('If', ['cond'], ['y'], 'if'), attribute: [{ name: 'then_branch', type: 5, g: body }] },
      ],
      input: [{ name: 'x' }, { name: 'cond' }],
    });
    expect(checkModel(ok)).toEqual([]);
    const bad = model({
      node: [
        { ...node('If', ['cond'], ['y'], 'if'), attribute: [{ name: 'then_branch', type: 5, g: body }] },
        node('Neg', ['x'], ['before'], 'neg'),
      ],
      input: [{ name: 'x' }, { name: 'cond' }],
    });
    const problems = checkModel(bad);
    expect(problems.map((p) => [p.rule, p.graph, p.node])).toEqual([
      ['undefined-input', 'main/if.then_branch', 'inner'],
    ]);
  });

  it('finds graph outputs nobody produces, graphs without names and nodes without op_type', () => {
    const m = model({ name: '', node: [{ input: ['x'], output: ['z'], name: 'n' }] });
    expect(rules(m)).toEqual(['graph-name-empty@main', 'op-type-empty@n', 'undefined-output@main']);
  });
});
