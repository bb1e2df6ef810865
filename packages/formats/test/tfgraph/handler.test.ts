import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { isFerryError } from '../../src/errors.js';
import { openModel } from '../../src/open.js';
import { encodeMessage } from '../../src/protobuf/encode.js';
import type { Message } from '../../src/protobuf/schema.js';
import { GraphDef } from '../../src/savedmodel/protos.js';
import { scanPath } from '../../src/scan.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures');
const TFGRAPH = join(FIXTURES, 'tfgraph');
const REGRESSION = join(TFGRAPH, 'regression_graphdef_frozen.pb');
const HALF_PLUS_TWO = join(TFGRAPH, 'half_plus_two_frozen.pb');
const SAVEDMODEL = join(import.meta.dirname, '../../../../../shared/fixtures/savedmodel');
const expected = JSON.parse(readFileSync(join(TFGRAPH, 'expected.json'), 'utf8')) as Record<
  string,
  { constants: Record<string, { values: number[] }> }
>;
const work = mkdtempSync(join(tmpdir(), 'ferry-tfgraph-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DT_FLOAT = 1;
const DT_STRING = 7;
const placeholder = (name: string, shape?: number[]): Message => ({
  name,
  op: 'Placeholder',
  attr: {
    dtype: { type: DT_FLOAT },
    ...(shape && { shape: { shape: { dim: shape.map((d) => ({ size: BigInt(d) })) } } }),
  },
});
const node = (name: string, op: string, input: string[] = [], attr: Message = {}): Message => ({
  name,
  op,
  input,
  attr,
});
function graphFile(name: string, nodes: Message[]): string {
  const path = join(work, name);
  writeFileSync(path, encodeMessage(GraphDef, { node: nodes, versions: { producer: 1087 } }));
  return path;
}

async function floats(path: string): Promise<Record<string, number[]>> {
  const model = await openModel(path);
  try {
    const out: Record<string, number[]> = {};
    for (const t of model.tensors)
      out[t.name] = [...new Float32Array(Uint8Array.from(await readTensorBytes(t)).buffer)];
    return out;
  } finally {
    await model.close();
  }
}

describe('frozen GraphDef files (tf2onnx regression graph, frozen half_plus_two)', () => {
  it('detects both fixtures as tfgraph, by structure only', async () => {
    expect(await detectFormat(REGRESSION)).toBe('tfgraph');
    expect(await detectFormat(HALF_PLUS_TWO)).toBe('tfgraph');
    // the extension means nothing either way
    const renamed = join(work, 'model.bin');
    copyFileSync(REGRESSION, renamed);
    expect(await detectFormat(renamed)).toBe('tfgraph');
  });

  it('the committed public graphs are the bytes fixtures/wild/frozen-graphs.json records (sha256)', () => {
    const manifest = JSON.parse(readFileSync(join(FIXTURES, 'wild/frozen-graphs.json'), 'utf8')) as {
      files: { committed_as: string | null; sha256: string }[];
    };
    const committed = manifest.files.filter((f) => f.committed_as !== null);
    expect(committed.map((f) => f.committed_as)).toEqual(['fixtures/tfgraph/regression_graphdef_frozen.pb']);
    for (const f of committed) {
      const bytes = readFileSync(join(FIXTURES, '..', f.committed_as!));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
  });

  it('inspects placeholders, likely outputs, ops and constants', async () => {
    const model = await openModel(REGRESSION);
    expect(model.format).toBe('tfgraph');
    expect(model.inputs).toEqual([{ name: 'X:0', dtype: 'F32', shape: null, op: 'Placeholder' }]);
    expect(model.outputs).toEqual([{ name: 'pred:0', dtype: 'F32', shape: null, op: 'Identity' }]);
    expect(model.details?.ops).toEqual({ Add: 1, Const: 2, Identity: 3, Mul: 1, Placeholder: 1 });
    expect(model.findings).toEqual([]);
    await model.close();
    const hp2 = await openModel(HALF_PLUS_TWO);
    expect(hp2.inputs).toEqual([{ name: 'x:0', dtype: 'F32', shape: [-1, 1], op: 'Placeholder' }]);
    expect(hp2.outputs?.map((o) => o.name)).toEqual(['y:0']);
    expect(hp2.metadata).toEqual({ graph_producer: '149' });
    await hp2.close();
  });

  it('hands out Const values as tensors equal to the values decoded by fixtures/make/tfgraph_files.py', async () => {
    for (const [file, path] of [
      ['regression_graphdef_frozen.pb', REGRESSION],
      ['half_plus_two_frozen.pb', HALF_PLUS_TWO],
    ] as const) {
      const want = Object.fromEntries(
        Object.entries(expected[file]!.constants).map(([k, v]) => [k, v.values]),
      );
      expect(await floats(path)).toEqual(want);
    }
  });

  it('expands typed *_val constants (a splat) lazily and checks them when read', async () => {
    const path = graphFile('splat.pb', [
      node('w', 'Const', [], {
        dtype: { type: DT_FLOAT },
        value: {
          tensor: { dtype: DT_FLOAT, tensor_shape: { dim: [{ size: 2n }, { size: 2n }] }, float_val: [1.5] },
        },
      }),
      node('s', 'Const', [], {
        dtype: { type: DT_STRING },
        value: {
          tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [new TextEncoder().encode('hi')] },
        },
      }),
      node('out', 'Identity', ['w']),
    ]);
    expect(await floats(path)).toEqual({ w: [1.5, 1.5, 1.5, 1.5] });
    const model = await openModel(path);
    expect(model.opaque).toMatchObject([{ name: 's', type: 'DT_STRING' }]);
    await model.close();
  });

  it('scans safe, and reports the SavedModel op table on a graph that reads and writes files', async () => {
    expect((await scanPath(REGRESSION)).verdict).toBe('safe');
    const path = graphFile('io.pb', [
      placeholder('name'),
      node('read', 'ReadFile', ['name']),
      node('py', 'PyFunc', ['read']),
      node('write', 'WriteFile', ['name', 'py']),
      node('save', 'SaveV2', ['name']),
    ]);
    expect(await detectFormat(path)).toBe('tfgraph');
    const result = await scanPath(path);
    expect(result.verdict).toBe('unsafe');
    // the scan lists findings worst first
    expect(result.findings.map((f) => [f.severity, f.rule, f.location])).toEqual([
      ['critical', 'savedmodel-python-op', 'node py'],
      ['high', 'savedmodel-file-write-op', 'node write'],
      ['medium', 'savedmodel-file-read-op', 'node read'],
      ['info', 'savedmodel-checkpoint-op', 'graph'],
    ]);
  });

  it('is not confused with ONNX models, SavedModels or other protobuf', async () => {
    expect(
      await detectFormat(join(SAVEDMODEL, 'saved_model_half_plus_two_cpu/00000123/saved_model.pb')),
    ).toBe('savedmodel');
    // a saved_model.pb under another name is no GraphDef (field 1 is a varint, or only field 2)
    const renamed = join(work, 'frozen.pb');
    copyFileSync(join(SAVEDMODEL, 'saved_model_half_plus_two_cpu/00000123/saved_model.pb'), renamed);
    await expect(detectFormat(renamed)).rejects.toMatchObject({ code: 'FERRY_UNKNOWN_FORMAT' });
    for (const name of readdirSync(join(FIXTURES, 'onnx')).filter((n) => n.endsWith('.onnx'))) {
      expect(await detectFormat(join(FIXTURES, 'onnx', name))).toBe('onnx');
    }
    // an empty graph (only versions), a truncated graph and a node with an impossible op name
    const cases: [string, Uint8Array][] = [
      ['versions-only.pb', encodeMessage(GraphDef, { versions: { producer: 1 } })],
      ['truncated.pb', readFileSync(REGRESSION).subarray(0, statSync(REGRESSION).size - 3)],
      ['bad-op.pb', encodeMessage(GraphDef, { node: [node('x', 'not an op!')] })],
    ];
    for (const [name, bytes] of cases) {
      writeFileSync(join(work, name), bytes);
      await expect(detectFormat(join(work, name))).rejects.toMatchObject({ code: 'FERRY_UNKNOWN_FORMAT' });
    }
  });

  it('refuses duplicate node names with a one-line structure error', async () => {
    const path = graphFile('dup.pb', [
      placeholder('x'),
      node('y', 'Identity', ['x']),
      node('y', 'Neg', ['x']),
    ]);
    const error = await openModel(path).catch((e: unknown) => e);
    expect(isFerryError(error) && error.code).toBe('FERRY_TFGRAPH_STRUCTURE');
    expect((error as Error).message).toBe(`${path}: GraphDef.node[2]: a second node is named y`);
  });
});
