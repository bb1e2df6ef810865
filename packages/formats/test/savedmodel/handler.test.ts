import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { isFerryError } from '../../src/errors.js';
import { openModel } from '../../src/open.js';
import { encodeMessage } from '../../src/protobuf/encode.js';
import type { Message } from '../../src/protobuf/schema.js';
import { readTensorChunks } from '../../src/tensor/chunks.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { tfDtypeName } from '../../src/savedmodel/dtypes.js';
import { readSavedModel } from '../../src/savedmodel/handler.js';
import { variableCheckpointKeys } from '../../src/savedmodel/object-graph.js';
import { SavedModel } from '../../src/savedmodel/protos.js';
import { tensorNameOf } from '../../src/savedmodel/signatures.js';
import { openTensorBundle } from '../../src/savedmodel/tensor-bundle.js';
import { tfTensorToBytes } from '../../src/savedmodel/tensor-proto.js';
import type { TfTensorInfo } from '../../src/savedmodel/types.js';

const FIXTURES = '/work/shared/fixtures/savedmodel';
const TF1 = `${FIXTURES}/saved_model_half_plus_two_cpu/00000123`;
const TF2 = `${FIXTURES}/saved_model_half_plus_two_tf2_cpu/00000123`;
const COUNTER = `${FIXTURES}/saved_model_counter/00000123`;
const TFJS = `${FIXTURES}/tfjs-node`;
const work = mkdtempSync(join(tmpdir(), 'ferry-savedmodel-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function valuesOf(path: string): Promise<Record<string, number[]>> {
  const model = await openModel(path);
  try {
    const out: Record<string, number[]> = {};
    for (const t of model.tensors) {
      const bytes = await readTensorBytes(t);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const n = bytes.length / (t.dtype === 'I64' ? 8 : 4);
      out[t.name] = Array.from({ length: n }, (_, i) =>
        t.dtype === 'F32'
          ? view.getFloat32(i * 4, true)
          : t.dtype === 'I64'
            ? Number(view.getBigInt64(i * 8, true))
            : view.getInt32(i * 4, true),
      );
    }
    return out;
  } finally {
    await model.close();
  }
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return error.code;
  }
}

describe('SavedModel: TensorFlow Serving half_plus_two', () => {
  it('detects the folder and saved_model.pb by structure', async () => {
    expect(await detectFormat(TF1)).toBe('savedmodel');
    expect(await detectFormat(TF2)).toBe('savedmodel');
    expect(await detectFormat(`${TF1}/saved_model.pb`)).toBe('savedmodel');
  });

  it('lists the TF1 signatures exactly as TF Serving reports them (half_plus_two_model_metadata.json)', async () => {
    const served = JSON.parse(readFileSync(`${FIXTURES}/half_plus_two_model_metadata.json`, 'utf8')).metadata
      .signature_def.signature_def as Record<string, unknown>;
    const model = await readSavedModel(`${TF1}/saved_model.pb`);
    const meta = model.metaGraphs[0]!;
    expect(meta.tags).toEqual(['serve']);
    expect(meta.tensorflowVersion).toBe('1.14.0');
    const ours: Record<string, unknown> = {};
    for (const sig of meta.signatures) {
      const side = (infos: Readonly<Record<string, TfTensorInfo>>) =>
        Object.fromEntries(
          Object.entries(infos).map(([k, t]) => [
            k,
            {
              dtype: tfDtypeName(t.dtype),
              tensor_shape: {
                dim: t.shape!.dims.map((d) => ({ size: String(d), name: '' })),
                unknown_rank: t.shape!.unknownRank,
              },
              name: tensorNameOf(t),
            },
          ]),
        );
      ours[sig.key] = {
        inputs: side(sig.inputs),
        outputs: side(sig.outputs),
        method_name: sig.methodName,
        defaults: {},
      };
    }
    expect(ours).toEqual(served);
  });

  it('opens the TF1 export: serving_default x -> y, variables a=0.5, b=2', async () => {
    const model = await openModel(TF1);
    try {
      expect(model.format).toBe('savedmodel');
      expect(model.inputs).toEqual([{ name: 'x', dtype: 'F32', shape: [-1, 1], tensorName: 'x:0' }]);
      expect(model.outputs).toEqual([{ name: 'y', dtype: 'F32', shape: [-1, 1], tensorName: 'y:0' }]);
      const classify = model.signatures!.find((s) => s.key === 'classify_x_to_y')!;
      expect(classify.method).toBe('tensorflow/serving/classify');
      expect(classify.inputs[0]).toEqual({
        name: 'inputs',
        dtype: 'DT_STRING',
        shape: null,
        tensorName: 'tf_example:0',
      });
      expect(model.metadata.tensorflow_version).toBe('1.14.0');
      const details = model.details as { metaGraphs: { ops: Record<string, number>; functions: number }[] };
      expect(details.metaGraphs[0]!.ops.VariableV2).toBe(6);
      expect(details.metaGraphs[0]!.functions).toBe(0);
    } finally {
      await model.close();
    }
    const values = await valuesOf(TF1);
    expect(values.a).toEqual([0.5]);
    expect(values.b).toEqual([2]);
  });

  it('decodes graph constants: the variables initial values', async () => {
    const meta = (await readSavedModel(`${TF1}/saved_model.pb`)).metaGraphs[0]!;
    const init = (name: string) => {
      const attr = meta.graph.nodes.find((n) => n.name === name)!.attr.value!;
      if (attr.kind !== 'tensor') throw new Error('not a tensor');
      const { dtype, shape, bytes } = tfTensorToBytes(attr.value);
      return { dtype, shape, value: new DataView(bytes.buffer, bytes.byteOffset).getFloat32(0, true) };
    };
    expect(init('a/initial_value')).toEqual({ dtype: 'F32', shape: [], value: 0.5 });
    expect(init('b/initial_value')).toEqual({ dtype: 'F32', shape: [], value: 2 });
  });

  it('opens the TF2 export: functions, object graph keys = bundle keys, a=0.5, b=2', async () => {
    const model = await openModel(TF2);
    try {
      expect(model.metadata.tensorflow_version).toBe('2.14.0');
      expect(model.inputs).toEqual([
        { name: 'x', dtype: 'F32', shape: [1], tensorName: 'serving_default_x:0' },
      ]);
      expect(model.outputs![0]!.tensorName).toBe('StatefulPartitionedCall_5:0');
      const details = model.details as { metaGraphs: { functions: number; assets: string[] }[] };
      expect(details.metaGraphs[0]!.functions).toBe(14);
      expect(details.metaGraphs[0]!.assets).toEqual(['foo.txt']);
      // The checkpoint's object graph is bookkeeping: reported in details, not as a tensor.
      expect(model.opaque).toBeUndefined();
      expect(
        (model.details as { variables: { checkpointObjectGraph: boolean } }).variables.checkpointObjectGraph,
      ).toBe(true);
    } finally {
      await model.close();
    }
    const values = await valuesOf(TF2);
    expect(values['a/.ATTRIBUTES/VARIABLE_VALUE']).toEqual([0.5]);
    expect(values['b/.ATTRIBUTES/VARIABLE_VALUE']).toEqual([2]);
    const meta = (await readSavedModel(`${TF2}/saved_model.pb`)).metaGraphs[0]!;
    const keys = [...variableCheckpointKeys(meta.objectGraph!).values()].sort();
    expect(keys).toEqual([
      'a/.ATTRIBUTES/VARIABLE_VALUE',
      'b/.ATTRIBUTES/VARIABLE_VALUE',
      'c/.ATTRIBUTES/VARIABLE_VALUE',
    ]);
    // predict's concrete function captures the variables a and b (bound_inputs -> SavedObjects).
    const predict = meta.objectGraph!.concreteFunctions.__inference_predict_235!;
    expect(predict.boundInputs.map((id) => meta.objectGraph!.nodes[id]!.variable?.name)).toEqual(['a', 'b']);
  });
});

describe('SavedModel: counter and tensorflow/tfjs test models', () => {
  it('opens the stateful counter model', async () => {
    const model = await openModel(COUNTER);
    try {
      expect(model.signatures!.map((s) => s.key)).toEqual([
        'get_counter',
        'incr_counter',
        'incr_counter_by',
        'reset_counter',
      ]);
      expect(model.signatures![2]!.inputs).toEqual([
        { name: 'delta', dtype: 'F32', shape: null, tensorName: 'delta:0' },
      ]);
      expect(model.findings!.map((f) => f.rule)).toEqual(['savedmodel-checkpoint-op']);
    } finally {
      await model.close();
    }
    expect(await valuesOf(COUNTER)).toEqual({ counter: [0] });
  });

  // tfjs-node/NOTES.md: what each model computes; the variables hold the multipliers.
  const tfjs: [string, Record<string, string>, Record<string, number[]>][] = [
    ['times_three_float', { x: 'F32', output_0: 'F32' }, { 'v/.ATTRIBUTES/VARIABLE_VALUE': [3] }],
    ['times_two_int', { x: 'I32', output_0: 'I32' }, { 'v/.ATTRIBUTES/VARIABLE_VALUE': [2] }],
    [
      'uint8_multiply',
      { x: 'U8', output_0: 'I32' },
      { 'v1/.ATTRIBUTES/VARIABLE_VALUE': [3], 'v2/.ATTRIBUTES/VARIABLE_VALUE': [2] },
    ],
    [
      'int64_multiply',
      { x: 'I64', output_0: 'I64' },
      { 'v1/.ATTRIBUTES/VARIABLE_VALUE': [3], 'v2/.ATTRIBUTES/VARIABLE_VALUE': [2] },
    ],
    ['model_single_input_multi_output', { x: 'I32', output_0: 'I32', output_1: 'I32' }, {}],
    ['model_multi_output', { x: 'I32', y: 'I32', output_0: 'I32', output_1: 'I32' }, {}],
    ['module_with_multiple_signatures', { x: 'F32', output_0: 'F32' }, {}],
  ];
  it.each(tfjs)('%s: serving_default dtypes and variables', async (name, dtypes, variables) => {
    const path = `${TFJS}/${name}`;
    const model = await openModel(path);
    try {
      expect(model.metadata.tag_sets).toBe('serve');
      const sig = model.signatures!.find((s) => s.key === 'serving_default')!;
      expect(Object.fromEntries([...sig.inputs, ...sig.outputs].map((t) => [t.name, t.dtype]))).toEqual(
        dtypes,
      );
      if (name === 'times_three_float') expect(sig.inputs[0]!.tensorName).toBe('serving_default_x:0');
      if (name === 'module_with_multiple_signatures') {
        expect(model.signatures!.map((s) => s.key)).toContain('timestwo');
      }
      const bundle = await openTensorBundle(`${path}/variables/variables`);
      await bundle.verify();
      await bundle.close();
    } finally {
      await model.close();
    }
    const values = await valuesOf(path);
    for (const [key, value] of Object.entries(variables)) expect(values[key]).toEqual(value);
  });
});

let folders = 0;
function savedModelFolder(message: Message, file = 'saved_model.pb'): string {
  const folder = join(work, `m${folders++}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, file),
    file.endsWith('.pb') ? encodeMessage(SavedModel, message) : 'meta_graphs {}\n',
  );
  return folder;
}

const s = (text: string) => ({ s: new TextEncoder().encode(text) });

describe('SavedModel: findings and malformed input', () => {
  it('reports ops that touch files, processes or Python, inside library functions too', async () => {
    const folder = savedModelFolder({
      saved_model_schema_version: 1n,
      meta_graphs: [
        {
          meta_info_def: { tags: ['serve'], tensorflow_version: '2.99.0' },
          graph_def: {
            node: [
              { name: 'x', op: 'Placeholder', attr: { dtype: { type: 1 } } },
              { name: 'leak', op: 'WriteFile', input: ['path', 'x'] },
              { name: 'mm', op: 'ImmutableConst', attr: { memory_region_name: s('/etc/shadow') } },
              { name: 'log', op: 'PrintV2', attr: { output_stream: s('file:///tmp/out.log') } },
              { name: 'quiet', op: 'PrintV2', attr: { output_stream: s('stderr') } },
              { name: 'call', op: 'StatefulPartitionedCall', attr: { f: { func: { name: 'evil' } } } },
            ],
            library: {
              function: [
                {
                  signature: { name: 'evil', output_arg: [{ name: 'out', type: 1 }] },
                  node_def: [
                    { name: 'py', op: 'EagerPyFunc', attr: { token: s('pyfunc_0') } },
                    { name: 'files', op: 'MatchingFiles' },
                    { name: 'save', op: 'SaveV2' },
                  ],
                  ret: { out: 'py:output:0' },
                },
              ],
            },
          },
          signature_def: {
            serving_default: {
              inputs: { x: { name: 'x:0', dtype: 1, tensor_shape: { unknown_rank: true } } },
              outputs: {
                y: { name: 'call:0', dtype: 1, tensor_shape: { dim: [{ size: -1n }, { size: 3n }] } },
              },
              method_name: 'tensorflow/serving/predict',
            },
          },
        },
      ],
    });
    const model = await openModel(folder);
    try {
      const found = model.findings!.map((f) => [f.severity, f.rule, f.location]);
      expect(found).toEqual([
        ['high', 'savedmodel-file-write-op', 'meta_graph[serve] node leak'],
        ['medium', 'savedmodel-file-read-op', 'meta_graph[serve] node mm'],
        ['high', 'savedmodel-file-write-op', 'meta_graph[serve] node log'],
        ['critical', 'savedmodel-python-op', 'meta_graph[serve] function evil node py'],
        ['medium', 'savedmodel-file-read-op', 'meta_graph[serve] function evil node files'],
        ['info', 'savedmodel-checkpoint-op', 'meta_graph[serve]'],
      ]);
      expect(model.findings![1]!.message).toContain('/etc/shadow');
      expect(model.tensors).toEqual([]);
      expect(model.outputs).toEqual([{ name: 'y', dtype: 'F32', shape: [-1, 3], tensorName: 'call:0' }]);
      expect(model.inputs![0]!.shape).toBeNull();
    } finally {
      await model.close();
    }
    const meta = (await readSavedModel(join(folder, 'saved_model.pb'))).metaGraphs[0]!;
    const call = meta.graph.nodes.find((n) => n.name === 'call')!;
    expect(call.attr.f).toEqual({ kind: 'func', value: { name: 'evil', attr: {} } });
    expect(meta.graph.functions[0]!.ret).toEqual({ out: 'py:output:0' });
  });

  it('flags asset file names that leave the assets folder', async () => {
    const asset = (filename: string) => ({ filename, tensor_info: { name: 'asset:0', dtype: 7 } });
    const folder = savedModelFolder({
      meta_graphs: [
        {
          meta_info_def: { tags: ['serve'] },
          asset_file_def: [
            asset('vocab.txt'),
            asset('../../etc/passwd'),
            asset('/etc/shadow'),
            asset('C:\\x.txt'),
          ],
        },
      ],
    });
    const model = await openModel(folder);
    try {
      expect(model.findings!.map((f) => [f.rule, f.location])).toEqual([
        ['savedmodel-asset-path', 'meta_graph[serve] asset_file_def[1]'],
        ['savedmodel-asset-path', 'meta_graph[serve] asset_file_def[2]'],
        ['savedmodel-asset-path', 'meta_graph[serve] asset_file_def[3]'],
      ]);
    } finally {
      await model.close();
    }
  });

  it('keys signatures by tag set when there are several MetaGraphs, and serves from {serve}', async () => {
    const meta = (tags: string[], input: string) => ({
      meta_info_def: { tags, tensorflow_version: tags.join('+') },
      signature_def: {
        serving_default: { inputs: { x: { name: input, dtype: 1, tensor_shape: { dim: [{ size: 2n }] } } } },
      },
    });
    const folder = savedModelFolder({
      meta_graphs: [meta(['train'], 't:0'), meta(['serve'], 's:0'), meta(['serve', 'gpu'], 'g:0')],
    });
    const model = await openModel(folder);
    try {
      expect(model.signatures!.map((s) => s.key)).toEqual([
        'train/serving_default',
        'serve/serving_default',
        'gpu,serve/serving_default',
      ]);
      expect(model.inputs).toEqual([{ name: 'x', dtype: 'F32', shape: [2], tensorName: 's:0' }]);
      expect(model.metadata.tag_sets).toBe('train serve gpu,serve');
      expect(model.metadata.tensorflow_version).toBe('serve');
    } finally {
      await model.close();
    }
  });

  it('says clearly that saved_model.pbtxt is not read', async () => {
    const folder = savedModelFolder({}, 'saved_model.pbtxt');
    expect(await detectFormat(folder)).toBe('savedmodel');
    const error = await openModel(folder).catch((e: unknown) => e);
    expect(isFerryError(error) && error.code).toBe('FERRY_UNSUPPORTED');
    expect((error as Error).message).toContain('saved_model.pbtxt');
  });

  it('refuses a saved_model.pb that is not a SavedModel', async () => {
    const empty = savedModelFolder({});
    expect(await codeOf(() => readSavedModel(join(empty, 'saved_model.pb')))).toBe(
      'FERRY_SAVEDMODEL_STRUCTURE',
    );
    expect(await codeOf(() => detectFormat(empty))).toBe('FERRY_UNKNOWN_FORMAT');
    const garbage = join(work, 'garbage');
    mkdirSync(garbage);
    writeFileSync(join(garbage, 'saved_model.pb'), Uint8Array.from([0x12, 0x7f, 1, 2, 3]));
    expect(await codeOf(() => openModel(garbage))).toBe('FERRY_UNKNOWN_FORMAT');
    const badDim = savedModelFolder({
      meta_graphs: [
        { signature_def: { s: { inputs: { x: { name: 'x', tensor_shape: { dim: [{ size: -7n }] } } } } } },
      ],
    });
    expect(await codeOf(() => readSavedModel(join(badDim, 'saved_model.pb')))).toBe(
      'FERRY_SAVEDMODEL_STRUCTURE',
    );
  });
});

describe('SavedModel: variables', () => {
  it('streams a variable in chunks and checks its crc32c at the last one', async () => {
    const model = await openModel(TF1);
    try {
      const a = model.tensors.find((t) => t.name === 'a')!;
      const chunks: number[] = [];
      for await (const chunk of readTensorChunks(a, new Uint8Array(1))) chunks.push(chunk[0]!);
      expect(chunks).toEqual([0, 0, 0, 0x3f]);
    } finally {
      await model.close();
    }
  });
});
