/**
 * SavedModel -> ONNX conversion time: the real fixtures (TF Serving's half_plus_two, tfjs's test
 * SavedModels) end to end from their folders, and a generated 200-block CNN graph (Conv2D +
 * BiasAdd + FusedBatchNormV3 + Relu per block, each block a tf.function called through
 * StatefulPartitionedCall, variables frozen) converted in memory. The CNN's ONNX model is run once
 * in onnxruntime-node to show it loads and runs, and its Transpose count shows the cancel pass.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { convertSavedModelToOnnx, emitOnnx, type FrozenValue, prepareGraph } from '@ferry/convert';
import { onnx, type savedmodel } from '@ferry/formats';
import { markdownTable, medianSeconds, writeSection } from '../lib/report.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/savedmodel/', import.meta.url));
const MADE = fileURLToPath(new URL('../../fixtures/savedmodel-onnx/', import.meta.url));
const BLOCKS = 200;
const CHANNELS = 16;
const SIZE = 32;

const empty = { s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] };
const A = {
  type: (value: number): savedmodel.TfAttrValue => ({ kind: 'type', value }),
  str: (value: string): savedmodel.TfAttrValue => ({ kind: 's', value: new TextEncoder().encode(value) }),
  ints: (values: number[]): savedmodel.TfAttrValue => ({
    kind: 'list',
    value: { ...empty, i: values.map(BigInt) },
  }),
  float: (value: number): savedmodel.TfAttrValue => ({ kind: 'f', value }),
  bool: (value: boolean): savedmodel.TfAttrValue => ({ kind: 'b', value }),
  func: (name: string): savedmodel.TfAttrValue => ({ kind: 'func', value: { name, attr: {} } }),
};
const node = (
  name: string,
  op: string,
  inputs: string[],
  attr: Record<string, savedmodel.TfAttrValue> = {},
): savedmodel.TfNodeDef => ({
  name,
  op,
  inputs,
  device: '',
  attr,
});
const floats = (n: number, seed: number): Uint8Array => {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(seed * 7919 + i) * 0.1;
  return new Uint8Array(v.buffer);
};
const int32Const = (name: string, values: number[]): savedmodel.TfNodeDef => {
  const tensor: savedmodel.TfTensor = {
    dtype: 3,
    shape: { dims: [values.length], unknownRank: false },
    versionNumber: 0,
    tensorContent: new Uint8Array(Int32Array.from(values).buffer),
    halfVal: [],
    floatVal: [],
    doubleVal: [],
    intVal: [],
    stringVal: [],
    scomplexVal: [],
    int64Val: [],
    boolVal: [],
    dcomplexVal: [],
    uint32Val: [],
    uint64Val: [],
    float8Val: null,
  };
  return node(name, 'Const', [], { dtype: A.type(3), value: { kind: 'tensor', value: tensor } });
};
const arg = (name: string, type: number) => ({
  name,
  type,
  typeAttr: '',
  numberAttr: '',
  typeListAttr: '',
  isRef: false,
});

/** One block: conv(3x3, SAME) + bias + batch norm + relu, reading its 6 variables through resource args. */
function blockFunction(): savedmodel.TfFunctionDef {
  const T = { T: A.type(1) };
  const read = (n: string) => node(`${n}/read`, 'ReadVariableOp', [n], { dtype: A.type(1) });
  const vars = ['w', 'bias', 'scale', 'offset', 'mean', 'var'];
  return {
    name: '__inference_block_1',
    signature: {
      name: '__inference_block_1',
      inputArgs: [arg('x', 1), ...vars.map((v) => arg(v, 20))],
      outputArgs: [arg('y', 1)],
      controlOutputs: [],
      attrs: [],
      isStateful: true,
    },
    nodes: [
      ...vars.map(read),
      node('conv', 'Conv2D', ['x', 'w/read:value:0'], {
        ...T,
        strides: A.ints([1, 1, 1, 1]),
        padding: A.str('SAME'),
        data_format: A.str('NHWC'),
      }),
      node('biased', 'BiasAdd', ['conv:output:0', 'bias/read:value:0'], T),
      node('bn', 'FusedBatchNormV3', ['biased:output:0', ...vars.slice(2).map((v) => `${v}/read:value:0`)], {
        ...T,
        epsilon: A.float(0.001),
        is_training: A.bool(false),
        data_format: A.str('NHWC'),
      }),
      node('relu', 'Relu', ['bn:y:0'], T),
    ],
    ret: { y: 'relu:activations:0' },
    controlRet: {},
    attr: {},
    argAttr: {},
  };
}

function cnn(): {
  nodes: savedmodel.TfNodeDef[];
  functions: savedmodel.TfFunctionDef[];
  variables: Map<string, FrozenValue>;
  sig: savedmodel.TfSignatureDef;
} {
  const nodes: savedmodel.TfNodeDef[] = [node('x', 'Placeholder', [], { dtype: A.type(1) })];
  const variables = new Map<string, FrozenValue>();
  let current = 'x';
  for (let b = 0; b < BLOCKS; b++) {
    const vars: [string, number[]][] = [
      ['w', [3, 3, CHANNELS, CHANNELS]],
      ['bias', [CHANNELS]],
      ['scale', [CHANNELS]],
      ['offset', [CHANNELS]],
      ['mean', [CHANNELS]],
      ['var', [CHANNELS]],
    ];
    for (const [v, dims] of vars) {
      const name = `block${b}/${v}`;
      nodes.push(node(name, 'VarHandleOp', [], { dtype: A.type(1) }));
      const count = dims.reduce((p, d) => p * d, 1);
      const bytes =
        v === 'var'
          ? new Uint8Array(new Float32Array(count).fill(1).buffer)
          : floats(count, b * 10 + vars.length);
      variables.set(name, { dtype: 1, dims, bytes });
    }
    nodes.push(
      node(`block${b}/call`, 'StatefulPartitionedCall', [current, ...vars.map(([v]) => `block${b}/${v}`)], {
        f: A.func('__inference_block_1'),
      }),
    );
    current = `block${b}/call`;
  }
  nodes.push(
    int32Const('axes', [1, 2]),
    node('pool', 'Mean', [current, 'axes'], { T: A.type(1), keep_dims: A.bool(false) }),
  );
  nodes.push(node('probs', 'Softmax', ['pool'], { T: A.type(1) }));
  const info = (name: string, dims: number[]) => ({
    encoding: 'dense' as const,
    name,
    dtype: 1,
    shape: { dims, unknownRank: false },
  });
  const sig = {
    key: 'serving_default',
    methodName: 'tensorflow/serving/predict',
    inputs: { x: info('x:0', [-1, SIZE, SIZE, CHANNELS]) },
    outputs: { probs: info('probs:0', [-1, CHANNELS]) },
  };
  return { nodes, functions: [blockFunction()], variables, sig };
}

export async function run(): Promise<void> {
  const rows: string[][] = [];
  for (const [label, dir, signature] of [
    ['half_plus_two TF1', 'saved_model_half_plus_two_cpu/00000123', 'serving_default'],
    ['half_plus_two TF2', 'saved_model_half_plus_two_tf2_cpu/00000123', 'serving_default'],
    ['tfjs module_with_multiple_signatures', 'tfjs-node/module_with_multiple_signatures', 'timestwo'],
    ['tfjs model_multi_output', 'tfjs-node/model_multi_output', 'serving_default'],
    ['Keras 3 CNN (fixtures/savedmodel-onnx)', `${MADE}keras_cnn`, 'serving_default'],
    ['Keras 3 MultiHeadAttention (fixtures/savedmodel-onnx)', `${MADE}keras_attention`, 'serving_default'],
  ] as const) {
    const folder = dir.startsWith('/') ? dir : join(FIXTURES, dir);
    const seconds = await medianSeconds(9, () => convertSavedModelToOnnx(folder, { signature }));
    rows.push([`${label} (${signature}), from its folder`, `${(seconds * 1000).toFixed(1)} ms`]);
  }
  const { nodes, functions, variables, sig } = cnn();
  let bytes: Uint8Array = new Uint8Array(0);
  let onnxNodes = 0;
  let transposes = 0;
  const seconds = await medianSeconds(5, () => {
    const model = emitOnnx(prepareGraph({ nodes, functions, versions: null }, sig, 'bench'), variables);
    onnxNodes = model.graph!.node!.length;
    transposes = model.graph!.node!.filter((n) => n.op_type === 'Transpose').length;
    bytes = onnx.encodeModel(model);
  });
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', new Float32Array(SIZE * SIZE * CHANNELS).fill(0.5), [
    1,
    SIZE,
    SIZE,
    CHANNELS,
  ]);
  await session.run({ x: input });
  const infer = await medianSeconds(5, () => session.run({ x: input }));
  await session.release();
  rows.push(
    [
      `generated CNN: ${BLOCKS} blocks (${nodes.length} graph nodes + ${functions[0]!.nodes.length}-node function x ${BLOCKS} calls, ${variables.size} variables), inline + prune + convert + encode`,
      `${(seconds * 1000).toFixed(0)} ms`,
    ],
    [
      'its ONNX model',
      `${onnxNodes} nodes, ${transposes} Transposes (5 per block before: the filter layout is folded at conversion, NHWC<->NCHW pairs cancelled), ${(bytes.length / 2 ** 20).toFixed(1)} MiB`,
    ],
    ['onnxruntime-node CPU inference of it, batch 1', `${(infer * 1000).toFixed(1)} ms`],
  );
  writeSection(
    'savedmodel-onnx',
    'SavedModel -> ONNX conversion',
    'npm run bench -- savedmodel-onnx',
    markdownTable(['measure', 'result'], rows),
  );
}
