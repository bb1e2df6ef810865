import { isFerryError, tfDtypeName, tfTensorToBytes, type TfTensor } from '../../formats.js';
import type { Converter, Val } from '../context.js';
import { DT_STRING_CODE, onnxDtypeOf, TF_RESOURCE } from '../dtypes.js';

/** Ops that pass their input on unchanged: no ONNX node, the value is simply reused. */
const passThrough: Converter = (c) => [c.input(0)];

const constant: Converter = (c) => {
  const a = c.attr('value');
  if (a?.kind !== 'tensor') c.fail('the value attribute is missing');
  const tensor = (a as { value: TfTensor }).value;
  if (onnxDtypeOf(tensor.dtype) === undefined || tensor.dtype % 100 === DT_STRING_CODE) {
    c.unsupported(`a ${tfDtypeName(tensor.dtype)} constant has no ONNX Runtime numeric type`);
  }
  let value: ReturnType<typeof tfTensorToBytes>;
  try {
    value = tfTensorToBytes(tensor, `${c.path}: node ${c.node.name}`);
  } catch (error) {
    if (isFerryError(error)) c.fail(error.message);
    throw error;
  }
  const name = c.b.initializer(c.hint, tensor.dtype, value.shape, value.bytes, `${c.node.name}:0`);
  return [
    {
      name,
      dtype: tensor.dtype,
      rank: value.shape.length,
      konst: { dtype: tensor.dtype, dims: value.shape, bytes: value.bytes },
    },
  ];
};

const placeholder: Converter = (c) =>
  c.fail('a Placeholder the outputs need is not one of the signature inputs (feed it through the signature)');

const identityN: Converter = (c) => [...c.inputs];

const varHandle: Converter = (c): Val[] => [
  { name: '', dtype: TF_RESOURCE, rank: null, resource: c.node.name },
];

const readVariable: Converter = (c) => {
  const handle = c.input(0);
  if (!handle.resource) c.fail('its resource input does not lead to a VarHandleOp');
  return [c.variable(handle.resource!)];
};

/** TF1 ref variables: the VariableV2 node's output is the value itself. */
const refVariable: Converter = (c) => [c.variable(c.node.name)];

export const basicOps: Readonly<Record<string, Converter>> = {
  Const: constant,
  Placeholder: placeholder,
  PlaceholderWithDefault: passThrough,
  Identity: passThrough,
  IdentityN: identityN,
  StopGradient: passThrough,
  PreventGradient: passThrough,
  Snapshot: passThrough,
  EnsureShape: passThrough,
  CheckNumerics: passThrough,
  NoOp: () => [],
  VarHandleOp: varHandle,
  ReadVariableOp: readVariable,
  VariableV2: refVariable,
  Variable: refVariable,
};
