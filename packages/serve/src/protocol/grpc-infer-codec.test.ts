import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InferRequestMessage, InferResponseMessage } from './grpc-infer.js';
import { decodeInferRequest, encodeInferResponse } from './grpc-infer-codec.js';
import { PROTO_OPTIONS, PROTO_PATH } from './proto-path.js';

/** protobufjs through proto-loader, as @grpc/grpc-js reads and writes ModelInfer. */
const method = (
  grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  }
).inference.GRPCInferenceService.service.ModelInfer!;

const generic = (bytes: Buffer) => method.requestDeserialize(bytes) as InferRequestMessage;
/** The generic reader's request with shapes as numbers, raw contents as plain bytes: what the hand-written one gives. */
const normalised = (request: InferRequestMessage) => ({
  ...request,
  inputs: request.inputs.map((input) => ({ ...input, shape: input.shape.map(Number) })),
  raw_input_contents: request.raw_input_contents.map((raw) => Array.from(raw)),
});
const mine = (bytes: Buffer) => {
  const request = decodeInferRequest(bytes);
  return request && normalised(request);
};

const plain = {
  model_name: 'mid',
  model_version: '3',
  id: 'req-7',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1024] },
    { name: 'mask', datatype: 'BOOL', shape: [1, 3] },
  ],
  outputs: [{ name: 'output' }],
  raw_input_contents: [Buffer.alloc(4096, 7), Buffer.from([1, 0, 1])],
};

describe('decodeInferRequest', () => {
  it('reads a plain request as protobufjs does', () => {
    const bytes = method.requestSerialize(plain);
    expect(mine(bytes)).toEqual(normalised(generic(bytes)));
    expect(mine(method.requestSerialize({}))).toEqual(normalised(generic(method.requestSerialize({}))));
    // raw contents are views into the message, not copies
    const request = decodeInferRequest(bytes)!;
    expect(request.raw_input_contents[0]!.buffer).toBe(bytes.buffer);
  });

  it('reads a shape sent unpacked (one varint per field), large dimensions included', () => {
    // inputs { name "x" datatype "FP32" shape 2 shape 2^40 } written by hand, unpacked
    const input = Buffer.from([
      0x0a,
      1,
      0x78,
      0x12,
      4,
      ...Buffer.from('FP32'),
      0x18,
      2,
      0x18,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x20,
    ]);
    const bytes = Buffer.from([0x2a, input.byteLength, ...input]);
    expect(decodeInferRequest(bytes)!.inputs[0]!.shape).toEqual([2, 2 ** 40]);
    expect(mine(bytes)).toEqual(normalised(generic(bytes)));
  });

  it('leaves to protobufjs what it does not read: parameters, typed contents, non-ASCII, negatives', () => {
    const unusual = [
      { ...plain, parameters: { timeout: { int64_param: 5 } } },
      {
        ...plain,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { a: { bool_param: true } } }],
      },
      { ...plain, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] },
      { ...plain, outputs: [{ name: 'y', parameters: { classification: { int64_param: 2 } } }] },
      { ...plain, model_name: 'modèle' },
      { ...plain, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] },
      { ...plain, inputs: [{ name: 'x', datatype: 'FP32', shape: ['9007199254740993'] }] },
    ];
    for (const request of unusual)
      expect(decodeInferRequest(method.requestSerialize(request))).toBeUndefined();
    // an unknown field (number 9, varint)
    expect(
      decodeInferRequest(Buffer.concat([method.requestSerialize(plain), Buffer.from([0x48, 1])])),
    ).toBeUndefined();
  });

  it('never throws, and agrees with protobufjs wherever it reads a mangled message', () => {
    const bytes = method.requestSerialize(plain);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.byteLength }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        (cut, flips) => {
          const mangled = Buffer.from(bytes.subarray(0, cut));
          for (const [at, value] of flips)
            if (mangled.byteLength > 0) mangled[at % mangled.byteLength] = value;
          const read = mine(mangled);
          if (read === undefined) return;
          // what this reads, protobufjs reads the same way (so no request means two things)
          expect(read).toEqual(normalised(generic(mangled)));
        },
      ),
      { numRuns: 2000, seed: 21 },
    );
  });
});

describe('encodeInferResponse', () => {
  const response: InferResponseMessage = {
    model_name: 'mid',
    model_version: '1',
    id: '',
    parameters: {},
    outputs: [
      { name: 'output', datatype: 'FP32', shape: [3, 1024], parameters: {} },
      { name: 'names', datatype: 'BYTES', shape: [0], parameters: {} },
      { name: 'scalar', datatype: 'INT64', shape: [], parameters: {} },
    ],
    raw_output_contents: [new Uint8Array(12288).fill(3), new Uint8Array(0), new Uint8Array(8).fill(1)],
  };
  const framed = (message: Buffer) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.byteLength, 1);
    return Buffer.concat([head, message]);
  };

  it('writes byte for byte what protobufjs writes, in one gRPC frame', () => {
    expect(encodeInferResponse(response)).toEqual(framed(method.responseSerialize(response)));
    const named = {
      ...response,
      id: 'é-ü',
      outputs: [{ ...response.outputs[0]!, name: 'größe', shape: [2 ** 40, 1] }],
    };
    expect(encodeInferResponse(named)).toEqual(framed(method.responseSerialize(named)));
    const empty = { ...response, outputs: [], raw_output_contents: [] };
    expect(encodeInferResponse(empty)).toEqual(framed(method.responseSerialize(empty)));
  });

  it('leaves a shape it cannot write as a varint to protobufjs', () => {
    const negative = { ...response, outputs: [{ ...response.outputs[0]!, shape: [-1] }] };
    expect(encodeInferResponse(negative)).toBeUndefined();
  });
});
