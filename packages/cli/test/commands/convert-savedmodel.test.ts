import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/savedmodel/', import.meta.url));
const HPT2 = join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123');
const COUNTER = join(FIXTURES, 'saved_model_counter/00000123');
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-tf2onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry convert SAVEDMODEL_DIR -o model.onnx', () => {
  it('writes an ONNX model named by the signature keys and prints one line', async () => {
    const out = join(dir, 'hpt.onnx');
    const result = await runCli(['convert', HPT2, '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /hpt\.onnx: 2 tensors, \d+ B from .* \(savedmodel\) in \d+\.\d\d s; signature serving_default: 3 ONNX nodes, opset 14\n$/,
    );
    const model = onnx.decodeModel(readFileSync(out));
    expect(onnx.checkModel(model)).toEqual([]);
    expect(model.graph!.input!.map((i) => i.name)).toEqual(['x']);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['y']);
  });

  it('--signature and --tag choose what converts; --json reports it', async () => {
    const out = join(dir, 'y3.onnx');
    const result = await runCli([
      'convert',
      HPT2,
      '-o',
      out,
      '--signature',
      'regress_x2_to_y3',
      '--tag',
      'serve',
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      signature: 'regress_x2_to_y3',
      tag: 'serve',
      inputs: ['inputs'],
      outputs: ['outputs'],
    });
  });

  it('an uncovered op is one line naming op, node and function; exit 2, no file written', async () => {
    const out = join(dir, 'never.onnx');
    const result = await runCli(['convert', COUNTER, '-o', out, '--signature', 'incr_by', '--tag', 'serve']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^ferry convert: FERRY_TF2ONNX_SIGNATURE: .*signature "incr_by".*incr_counter_by/,
    );
    const stateful = await runCli(['convert', COUNTER, '-o', out, '--signature', 'incr_counter_by']);
    expect(stateful.stderr).toBe(
      `ferry convert: FERRY_TF2ONNX_UNSUPPORTED_OP: ${COUNTER}: op AssignAdd (node incr_counter_by_op/AssignAdd in graph) has no ONNX conversion: a stateful op that changes a variable; a frozen ONNX graph has none\n`,
    );
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('ferry inspect --ops', () => {
  it('marks each op converted, inlined or not', async () => {
    const result = await runCli(['inspect', HPT2, '--ops']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\+ {2}AddV2 +6\n/);
    expect(result.stdout).toMatch(/~ {2}StatefulPartitionedCall +14\n/);
    expect(result.stdout).toMatch(/- {2}ParseExampleV2 +3\n/);
    expect(result.stdout).toMatch(
      /23 ops: 12 converted \(\+\), 1 inlined calls \(~\), 10 not converted \(-\)\n$/,
    );
    const json = JSON.parse((await runCli(['inspect', HPT2, '--ops', '--json'])).stdout);
    expect(json).toContainEqual({ op: 'Mul', count: 6, status: 'covered' });
  });
});

describe('ferry inspect --ops on something else', () => {
  it('is a usage error naming the path', async () => {
    const result = await runCli(['inspect', join(dir, 'hpt.onnx'), '--ops']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /--ops lists the ops of a SavedModel folder or a frozen GraphDef; .*hpt\.onnx is neither/,
    );
  });
});
