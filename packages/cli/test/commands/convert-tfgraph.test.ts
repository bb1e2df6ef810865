import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx, openModel, protobuf, readTensorBytes, savedmodel } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const TFGRAPH = fileURLToPath(new URL('../../../../fixtures/tfgraph/', import.meta.url));
const REGRESSION = join(TFGRAPH, 'regression_graphdef_frozen.pb');
const HALF_PLUS_TWO = join(TFGRAPH, 'half_plus_two_frozen.pb');
const expected = JSON.parse(readFileSync(join(TFGRAPH, 'expected.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-tfgraph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry convert FROZEN.pb -o model.onnx', () => {
  it('defaults to the Placeholders and the unconsumed nodes, and says so in one line', async () => {
    const out = join(dir, 'regression.onnx');
    const result = await runCli(['convert', REGRESSION, '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /regression\.onnx: 2 tensors, \d+ B from .* \(tfgraph\) in \d+\.\d\d s; signature graphdef: 3 ONNX nodes, opset 14 \(inputs X:0; outputs pred:0\)\n$/,
    );
    const model = onnx.decodeModel(readFileSync(out));
    expect(onnx.checkModel(model)).toEqual([]);
  });

  it('--inputs/--outputs (comma-separated, or repeated) pick the tensors; --json reports them, sorted by name', async () => {
    const out = join(dir, 'mul.onnx');
    const result = await runCli([
      'convert',
      HALF_PLUS_TWO,
      '-o',
      out,
      '--inputs',
      'x:0',
      '--outputs',
      'y:0,Mul',
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      format: 'tfgraph',
      inputs: ['x:0'],
      outputs: ['Mul:0', 'y:0'],
    });
  });

  it('SavedModel-only and GraphDef-only options are refused on the other kind (exit 2)', async () => {
    const tag = await runCli(['convert', REGRESSION, '-o', join(dir, 'x.onnx'), '--tag', 'serve']);
    expect(tag.code).toBe(2);
    expect(tag.stderr).toMatch(/--tag and --signature select in a SavedModel/);
    const hpt = fileURLToPath(
      new URL(
        '../../../../../shared/fixtures/savedmodel/saved_model_half_plus_two_cpu/00000123',
        import.meta.url,
      ),
    );
    const inputs = await runCli(['convert', hpt, '-o', join(dir, 'y.onnx'), '--outputs', 'y:0']);
    expect(inputs.code).toBe(2);
    expect(inputs.stderr).toMatch(/--inputs and --outputs name tensors of a frozen GraphDef/);
  });

  it('a tensor the graph lacks: one line, exit 2, nothing written', async () => {
    const out = join(dir, 'never.onnx');
    const result = await runCli(['convert', REGRESSION, '-o', out, '--outputs', 'Y:0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `ferry convert: FERRY_TF2ONNX_SIGNATURE: ${REGRESSION}: output Y:0: the graph has no node Y (placeholders: X:0; unconsumed nodes: pred:0)\n`,
    );
    expect(() => readFileSync(out)).toThrow();
  });

  it('an op without an ONNX conversion: one line naming op and node, exit 2, nothing written', async () => {
    const graph = join(dir, 'unique.pb');
    writeFileSync(
      graph,
      protobuf.encodeMessage(savedmodel.savedModelProtos.GraphDef, {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 1 } } },
          { name: 'ids', op: 'Unique', input: ['x'], attr: { T: { type: 1 }, out_idx: { type: 3 } } },
        ],
      }),
    );
    const out = join(dir, 'unique.onnx');
    const result = await runCli(['convert', graph, '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `ferry convert: FERRY_TF2ONNX_UNSUPPORTED_OP: ${graph}: op Unique (node ids in graph) has no ONNX conversion: not in the list of converted ops (ferry inspect --ops shows coverage)\n`,
    );
    expect(() => readFileSync(out)).toThrow();
  });

  it('writes the Const tensors to safetensors with the values tfgraph_files.py decoded', async () => {
    const out = join(dir, 'weights.safetensors');
    expect((await runCli(['convert', REGRESSION, '-o', out])).code).toBe(0);
    const model = await openModel(out);
    const values: Record<string, number[]> = {};
    for (const t of model.tensors)
      values[t.name] = [...new Float32Array(Uint8Array.from(await readTensorBytes(t)).buffer)];
    await model.close();
    expect(values).toEqual({
      W: expected['regression_graphdef_frozen.pb'].constants.W.values,
      b: expected['regression_graphdef_frozen.pb'].constants.b.values,
    });
  });
});

describe('ferry inspect / scan on a frozen graph', () => {
  it('inspect --json shows inputs, likely outputs and ops; --ops marks coverage', async () => {
    const report = JSON.parse((await runCli(['inspect', REGRESSION, '--json'])).stdout);
    expect(report).toMatchObject({
      format: 'tfgraph',
      inputs: [{ name: 'X:0', dtype: 'F32', shape: null }],
      outputs: [{ name: 'pred:0', dtype: 'F32', shape: null }],
      details: { nodes: 8, ops: { Add: 1, Const: 2, Identity: 3, Mul: 1, Placeholder: 1 } },
    });
    const ops = await runCli(['inspect', REGRESSION, '--ops']);
    expect(ops.code).toBe(0);
    expect(ops.stdout).toMatch(/5 ops: 5 converted \(\+\), 0 inlined calls \(~\), 0 not converted \(-\)\n$/);
  });

  it('scan says safe (exit 0)', async () => {
    const result = await runCli(['scan', REGRESSION, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      files: [{ path: REGRESSION, format: 'tfgraph', verdict: 'safe', findings: [] }],
    });
  });
});
