import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, FIXTURES, startTestServer, type TestServer } from './test-server.helper.js';

/**
 * The protocol's type rules for every request field (issue #24.10), against a real server and
 * the fixture models, over REST JSON, REST with binary tensor data and gRPC. Each refusal is a
 * 400 / INVALID_ARGUMENT whose message names the field by its path and the rule broken.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(FIXTURES);
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;

/** POSTs text as it is (so a test can send JSON that JSON.stringify cannot write, like 1e400). */
async function post(model: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.url}/v2/models/${model}/infer`, { method: 'POST', body, headers });
  return { status: response.status, json: (await response.json()) as Json };
}
const postBody = (model: string, body: unknown) => post(model, JSON.stringify(body));

const mlp = (input: Json = {}, extra: Json = {}) => ({
  inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8], ...input }],
  ...extra,
});

/** identity_typed's full request (every datatype but FP16, shape [2, 2]), one input replaced. */
const TYPED = Object.keys(EXPECTED.identity).filter((type) => type !== 'FP16');
function typed(type: string, input: Json): Json {
  return {
    inputs: TYPED.map((d) => ({
      name: `in_${d.toLowerCase()}`,
      shape: [2, 2],
      datatype: d,
      data: EXPECTED.identity[d],
      ...(d === type && input),
    })),
  };
}

describe('REST JSON: field types', () => {
  it.each([
    // shapes: JSON integers >= 0 only (issue example: ["1", 4])
    [
      'a string dimension',
      mlp({ shape: ['1', 8] }),
      'inputs[0].shape[0]: is "1"; a dimension must be a JSON integer from 0 to 2^53-1',
    ],
    [
      'a fractional dimension',
      mlp({ shape: [1, 8.5] }),
      'inputs[0].shape[1]: is 8.5; a dimension must be a JSON integer from 0 to 2^53-1',
    ],
    [
      'a negative dimension',
      mlp({ shape: [1, -8] }),
      'inputs[0].shape[1]: is -8; a dimension must be a JSON integer from 0 to 2^53-1',
    ],
    [
      'a dimension past 2^53-1',
      mlp({ shape: [2 ** 53, 8] }),
      'inputs[0].shape[0]: is 9007199254740992; a dimension must be a JSON integer from 0 to 2^53-1',
    ],
    [
      'a boolean dimension',
      mlp({ shape: [true, 8] }),
      'inputs[0].shape[0]: is true; a dimension must be a JSON integer from 0 to 2^53-1',
    ],
    [
      'a shape that is not an array',
      mlp({ shape: '1,8' }),
      'inputs[0].shape: is "1,8"; it must be an array of integers',
    ],
    [
      'a rank over the limit',
      mlp({ shape: new Array(33).fill(1) }),
      'inputs[0].shape: rank 33 is over the limit of 32',
    ],
    [
      'too many elements',
      mlp({ shape: [2 ** 20, 2 ** 20] }),
      'inputs[0].shape: [1048576, 1048576] has 1099511627776 elements, over the limit of 2147483647 (CWE-190)',
    ],
    // id, datatype
    ['a numeric id', mlp({}, { id: 7 }), 'id: is 7; it must be a string'],
    ['a numeric datatype', mlp({ datatype: 32 }), 'inputs[0].datatype: is 32; it must be a string'],
    // parameters: each value a string, number or boolean
    ['parameters that are an array', mlp({}, { parameters: [] }), 'parameters: is []; it must be an object'],
    [
      'an object parameter value',
      mlp({}, { parameters: { x: { y: 1 } } }),
      'parameters.x: is {"y":1}; a parameter must be a string, number or boolean',
    ],
    [
      'a null parameter value',
      mlp({}, { parameters: { 'a b': null } }),
      'parameters["a b"]: is null; a parameter must be a string, number or boolean',
    ],
    [
      'an input parameter that is a list',
      mlp({ parameters: { hint: [1] } }),
      'inputs[0].parameters.hint: is [1]; a parameter must be a string, number or boolean',
    ],
    [
      'an output parameter that is an object',
      mlp({}, { outputs: [{ name: 'y', parameters: { z: {} } }] }),
      'outputs[0].parameters.z: is {}; a parameter must be a string, number or boolean',
    ],
    // the parameters ferry reads: exact types (issue example: binary_data_output "yes")
    [
      'binary_data_output "yes"',
      mlp({}, { parameters: { binary_data_output: 'yes' } }),
      'parameters.binary_data_output: is "yes"; it must be true or false',
    ],
    [
      'binary_data_output 1',
      mlp({}, { parameters: { binary_data_output: 1 } }),
      'parameters.binary_data_output: is 1; it must be true or false',
    ],
    [
      'binary_data "true"',
      mlp({}, { outputs: [{ name: 'y', parameters: { binary_data: 'true' } }] }),
      'outputs[0].parameters.binary_data: is "true"; it must be true or false',
    ],
    [
      'timeout as a string',
      mlp({}, { parameters: { timeout: '100' } }),
      'parameters.timeout: is "100"; it must be an integer from 0 to 2^53-1',
    ],
    [
      'a negative timeout',
      mlp({}, { parameters: { timeout: -1 } }),
      'parameters.timeout: is -1; it must be an integer from 0 to 2^53-1',
    ],
    [
      'a fractional timeout',
      mlp({}, { parameters: { timeout: 1.5 } }),
      'parameters.timeout: is 1.5; it must be an integer from 0 to 2^53-1',
    ],
    [
      'the classification extension',
      mlp({}, { outputs: [{ name: 'y', parameters: { classification: 2 } }] }),
      'outputs[0].parameters.classification: the classification extension is not supported (leave it out for the raw output)',
    ],
    [
      'binary_data_size as a string',
      mlp({ data: undefined, parameters: { binary_data_size: '32' } }),
      'inputs[0].parameters.binary_data_size: is "32"; it must be an integer from 0 to 2^53-1',
    ],
  ])('400 for %s', async (_what, body, field) => {
    const { status, json } = await postBody('mlp', body);
    expect(status).toBe(400);
    expect(json.error).toBe(`request field ${field}`);
  });
});

describe('REST JSON: data', () => {
  it.each([
    // nested data must follow the shape (inference_rest.md "Tensor Data": nested or flat)
    [
      'ragged nested data',
      mlp({
        shape: [2, 8],
        data: [
          [1, 2, 3, 4, 5, 6, 7, 8],
          [1, 2, 3, 4, 5, 6, 7],
        ],
      }),
      'input x (inputs[0].data): nested "data"[1] has 7 items at depth 1 but shape [2, 8] needs 8 (nested data must follow the shape, or be flat)',
    ],
    [
      'half-flattened data',
      mlp({ shape: [2, 8], data: [new Array(16).fill(1)] }),
      'input x (inputs[0].data): nested "data" has 1 items at depth 0 but shape [2, 8] needs 2 (nested data must follow the shape, or be flat)',
    ],
    [
      'a number beside a row',
      mlp({ shape: [2, 8], data: [1, [1, 2, 3, 4, 5, 6, 7, 8]] }),
      'input x (inputs[0].data): nested "data"[0] is 1 where shape [2, 8] needs an array (nested data must follow the shape, or be flat)',
    ],
    [
      'nesting below the last dimension',
      mlp({ shape: [1, 8], data: [[[1], 2, 3, 4, 5, 6, 7, 8]] }),
      'input x (inputs[0].data): nested "data"[0][0] is an array below the last dimension of shape [1, 8]',
    ],
    ['data that is not an array', mlp({ data: 3 }), 'input x (inputs[0].data): "data" must be an array'],
    [
      'too many elements',
      mlp({ data: new Array(9).fill(1) }),
      'input x (inputs[0].data): "data" has 9 elements but shape [1, 8] needs 8',
    ],
    // FP32 from a finite JSON number that overflows (issue example: 1e308 became Infinity)
    [
      'FP32 1e308',
      mlp({ data: [1, 2, 3, 1e308, 5, 6, 7, 8] }),
      'input x (inputs[0].data): element 3 (1e+308) overflows FP32 (largest finite 3.4028235e38); send the string "Infinity" or "-Infinity" for an infinity',
    ],
    [
      'FP32 -3.5e38',
      mlp({ data: [-3.5e38, 2, 3, 4, 5, 6, 7, 8] }),
      'input x (inputs[0].data): element 0 (-3.5e+38) overflows FP32 (largest finite 3.4028235e38); send the string "Infinity" or "-Infinity" for an infinity',
    ],
  ])('400 for %s', async (_what, body, error) => {
    const { status, json } = await postBody('mlp', body);
    expect(status).toBe(400);
    expect(json.error).toBe(error);
  });

  it('400 for a JSON number past 1.8e308 (it parses as Infinity), in FP32 and FP64', async () => {
    const body = JSON.stringify(mlp({ data: [1, 2, 3, 4, 5, 6, 7, 0] })).replace(',0]', ',1e400]');
    expect(await post('mlp', body)).toEqual({
      status: 400,
      json: {
        error:
          'input x (inputs[0].data): element 7 is a JSON number past 1.8e308 that overflows FP32 (largest finite 3.4028235e38); send the string "Infinity" or "-Infinity" for an infinity',
      },
    });
    const fp64 = JSON.stringify(typed('FP64', { data: [1, 2, 3, 0] })).replace('[1,2,3,0]', '[1,2,3,-1e999]');
    const { status, json } = await post('identity_typed', fp64);
    expect(status).toBe(400);
    expect(json.error).toMatch(
      /^input in_fp64 \(inputs\[\d+\]\.data\): element 3 is a JSON number past 1\.8e308 that overflows FP64/,
    );
  });

  it('400 for FP16 past 65504 (it would round to infinity); 65519 still rounds to 65504', async () => {
    const fp16 = (data: unknown[]) => ({
      inputs: Object.keys(EXPECTED.identity).map((d) => ({
        name: `in_${d.toLowerCase()}`,
        shape: [2, 2],
        datatype: d,
        data: d === 'FP16' ? data : EXPECTED.identity[d],
      })),
    });
    const over = await postBody('identity', fp16([1, 70000, 3, 4]));
    expect(over.status).toBe(400);
    expect(over.json.error).toMatch(
      /^input in_fp16 \(inputs\[9\]\.data\): element 1 \(70000\) overflows FP16 \(largest finite 65504\)/,
    );
    const under = await postBody('identity', fp16([1, 65519, 'Infinity', -4]));
    expect(under.status, JSON.stringify(under.json)).toBe(200);
    const out = (under.json.outputs as { name: string; data: unknown[] }[]).find(
      (o) => o.name === 'out_fp16',
    )!;
    expect(out.data).toEqual([1, 65504, 'Infinity', -4]);
  });

  it('takes the largest FP32 and values that round to it, nested data that follows the shape, and "Infinity"', async () => {
    const { status, json } = await postBody(
      'identity_typed',
      typed('FP32', {
        data: [
          [3.4028235e38, -3.40282356e38],
          ['Infinity', 1e-50],
        ],
      }),
    );
    expect(status, JSON.stringify(json)).toBe(200);
    const out = (json.outputs as { name: string; data: unknown[] }[]).find((o) => o.name === 'out_fp32')!;
    expect(out.data).toEqual([3.4028234663852886e38, -3.4028234663852886e38, 'Infinity', 0]);
  });

  // every integer datatype's range, one past each end; BOOL and BYTES element types
  const ranges: [string, unknown, string][] = [
    ['INT8', 128, "is outside INT8's range -128..127"],
    ['INT8', -129, "is outside INT8's range -128..127"],
    ['UINT8', -1, "is outside UINT8's range 0..255"],
    ['UINT8', 256, "is outside UINT8's range 0..255"],
    ['INT16', 32768, "is outside INT16's range -32768..32767"],
    ['UINT16', 65536, "is outside UINT16's range 0..65535"],
    ['INT32', -2147483649, "is outside INT32's range -2147483648..2147483647"],
    ['UINT32', 4294967296, "is outside UINT32's range 0..4294967295"],
    ['INT64', '9223372036854775808', "is outside INT64's range -9223372036854775808..9223372036854775807"],
    ['INT64', '-9223372036854775809', "is outside INT64's range -9223372036854775808..9223372036854775807"],
    ['UINT64', '-1', "is outside UINT64's range 0..18446744073709551615"],
    ['UINT64', '18446744073709551616', "is outside UINT64's range 0..18446744073709551615"],
    ['INT64', 2 ** 60, 'must be an integer for INT64'],
    ['INT32', 1.5, 'must be an integer for INT32'],
    ['UINT16', '7', 'must be an integer for UINT16'],
    ['BOOL', 1, 'must be true or false for BOOL'],
    ['BOOL', 'true', 'must be true or false for BOOL'],
    ['FP64', true, 'must be a number for FP64'],
  ];
  it.each(ranges)('400 for %s element %j', async (type, value, rule) => {
    const data = [...EXPECTED.identity[type]!];
    data[2] = value;
    const { status, json } = await postBody('identity_typed', typed(type, { data }));
    expect(status).toBe(400);
    const index = TYPED.indexOf(type);
    expect(json.error).toBe(
      `input in_${type.toLowerCase()} (inputs[${index}].data): element 2 (${JSON.stringify(value)}) ${rule}`,
    );
  });

  it('400 for a BYTES element that is not a string', async () => {
    const { status, json } = await postBody('identity_typed', typed('BYTES', { data: ['a', 5, 'c', 'd'] }));
    expect(status).toBe(400);
    expect(json.error).toBe(
      `input in_bytes (inputs[${TYPED.indexOf('BYTES')}].data): element 1 must be a string for BYTES`,
    );
  });
});

describe('REST binary tensor data', () => {
  /** mlp's x as binary data with `parameters` on the input and the request. */
  function binary(inputParams: Json, raw: Buffer, requestParams: Json = {}) {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', parameters: inputParams }],
        parameters: requestParams,
      }),
    );
    return post('mlp', Buffer.concat([header, raw]), {
      'inference-header-content-length': String(header.length),
      'content-type': 'application/octet-stream',
    });
  }
  const x = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);

  it('answers a well-formed request', async () => {
    expect((await binary({ binary_data_size: 32 }, x)).status).toBe(200);
  });

  it.each([
    [
      'binary_data_size as a string',
      { binary_data_size: '32' },
      {},
      'request field inputs[0].parameters.binary_data_size: is "32"; it must be an integer from 0 to 2^53-1',
    ],
    [
      'a negative binary_data_size',
      { binary_data_size: -32 },
      {},
      'request field inputs[0].parameters.binary_data_size: is -32; it must be an integer from 0 to 2^53-1',
    ],
    [
      'binary_data_output "yes"',
      { binary_data_size: 32 },
      { binary_data_output: 'yes' },
      'request field parameters.binary_data_output: is "yes"; it must be true or false',
    ],
    [
      'a binary_data_size that does not match the shape',
      { binary_data_size: 28 },
      {},
      'input x (inputs[0] binary data): binary data is 28 bytes but shape [1, 8] of FP32 needs 32',
    ],
  ])('400 for %s', async (_what, inputParams, requestParams, error) => {
    const { status, json } = await binary(
      inputParams,
      x.subarray(0, (inputParams as Json).binary_data_size === 28 ? 28 : 32),
      requestParams,
    );
    expect(status).toBe(400);
    expect(json.error).toBe(error);
  });

  it('400 for a BOOL byte other than 0 or 1', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: Object.keys(EXPECTED.identity).map((d) =>
          d === 'BOOL'
            ? { name: 'in_bool', shape: [2, 2], datatype: 'BOOL', parameters: { binary_data_size: 4 } }
            : { name: `in_${d.toLowerCase()}`, shape: [2, 2], datatype: d, data: EXPECTED.identity[d] },
        ),
      }),
    );
    const { status, json } = await post('identity', Buffer.concat([header, Buffer.from([1, 0, 2, 1])]), {
      'inference-header-content-length': String(header.length),
    });
    expect(status).toBe(400);
    expect(json.error).toBe(
      'input in_bool (inputs[0] binary data): BOOL element 2 is byte 2; a BOOL must be 0 or 1',
    );
  });
});

describe('gRPC: field types', () => {
  const infer = (request: Json) =>
    t.call('ModelInfer', { model_name: 'mlp', ...request }).then(
      () => ({ code: 0, details: '' }),
      (error: Error & { code: number; details: string }) => ({ code: error.code, details: error.details }),
    );
  const raw = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
  const x = (extra: Json = {}) => ({ name: 'x', datatype: 'FP32', shape: [1, 8], ...extra });
  const invalid = (details: string) => ({ code: 3, details });

  it('answers a well-formed request', async () => {
    expect(await infer({ inputs: [x()], raw_input_contents: [raw] })).toEqual({ code: 0, details: '' });
  });

  it.each([
    // the example: raw_input_contents and contents together
    [
      'raw_input_contents and contents together',
      { inputs: [x({ contents: { fp32_contents: [1, 2, 3, 4, 5, 6, 7, 8] } })], raw_input_contents: [raw] },
      'request field inputs[0].contents: must be empty when raw_input_contents carries the data',
    ],
    [
      'a negative dimension',
      { inputs: [x({ shape: [-1, 8] })], raw_input_contents: [raw] },
      'request field inputs[0].shape[0]: is -1; a dimension must be >= 0',
    ],
    [
      'a dimension past 2^53-1',
      { inputs: [x({ shape: ['9007199254740993', 8] })], raw_input_contents: [raw] },
      'request field inputs[0].shape[0]: is 9007199254740993, over 2^53-1',
    ],
    [
      'a rank over the limit',
      { inputs: [x({ shape: new Array(33).fill(1) })], raw_input_contents: [raw] },
      'request field inputs[0].shape: rank 33 is over the limit of 32',
    ],
    [
      'timeout as a string_param',
      { inputs: [x()], raw_input_contents: [raw], parameters: { timeout: { string_param: '100' } } },
      'request field parameters.timeout: is "100" (string_param); it must be an int64_param or uint64_param from 0 to 2^53-1',
    ],
    [
      'a negative timeout',
      { inputs: [x()], raw_input_contents: [raw], parameters: { timeout: { int64_param: -5 } } },
      'request field parameters.timeout: is "-5" (int64_param); it must be an int64_param or uint64_param from 0 to 2^53-1',
    ],
    [
      'timeout as a bool_param',
      { inputs: [x()], raw_input_contents: [raw], parameters: { timeout: { bool_param: true } } },
      'request field parameters.timeout: is true (bool_param); it must be an int64_param or uint64_param from 0 to 2^53-1',
    ],
    [
      'the classification extension',
      {
        inputs: [x()],
        raw_input_contents: [raw],
        outputs: [{ name: 'y', parameters: { classification: { int64_param: 3 } } }],
      },
      'request field outputs[0].parameters.classification: the classification extension is not supported (leave it out for the raw output)',
    ],
    [
      'contents in the wrong typed field',
      { inputs: [x({ contents: { fp64_contents: [1, 2, 3, 4, 5, 6, 7, 8] } })] },
      'request field inputs[0].contents.fp64_contents: input x is FP32, whose data belongs in contents.fp32_contents',
    ],
  ])('INVALID_ARGUMENT for %s', async (_what, request, details) => {
    expect(await infer(request)).toEqual(invalid(details));
  });

  it('takes a timeout as int64_param or uint64_param', async () => {
    for (const timeout of [{ int64_param: 10_000_000 }, { uint64_param: 10_000_000 }])
      expect(await infer({ inputs: [x()], raw_input_contents: [raw], parameters: { timeout } })).toEqual({
        code: 0,
        details: '',
      });
  });

  /** identity_typed over gRPC typed contents, one input's contents replaced. */
  const CONTENTS: Record<string, string> = {
    BOOL: 'bool_contents',
    INT8: 'int_contents',
    INT16: 'int_contents',
    INT32: 'int_contents',
    INT64: 'int64_contents',
    UINT8: 'uint_contents',
    UINT16: 'uint_contents',
    UINT32: 'uint_contents',
    UINT64: 'uint64_contents',
    FP32: 'fp32_contents',
    FP64: 'fp64_contents',
    BYTES: 'bytes_contents',
  };
  const typedContents = (type: string, values: unknown[]) =>
    t.call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'identity_typed',
      inputs: TYPED.map((d) => ({
        name: `in_${d.toLowerCase()}`,
        datatype: d,
        shape: [2, 2],
        contents: {
          [CONTENTS[d]!]:
            d === type
              ? values
              : EXPECTED.identity[d]!.map((v) => (d === 'BYTES' ? Buffer.from(v as string) : v)),
        },
      })),
    });

  it.each([
    [
      'INT8',
      [1, 300, 3, 4],
      "input in_int8 (inputs[5].contents.int_contents): element 1 (300) is outside INT8's range -128..127",
    ],
    [
      'INT16',
      [1, -40000, 3, 4],
      "input in_int16 (inputs[6].contents.int_contents): element 1 (-40000) is outside INT16's range -32768..32767",
    ],
    [
      'UINT8',
      [1, 256, 3, 4],
      "input in_uint8 (inputs[1].contents.uint_contents): element 1 (256) is outside UINT8's range 0..255",
    ],
    [
      'UINT16',
      [1, 70000, 3, 4],
      "input in_uint16 (inputs[2].contents.uint_contents): element 1 (70000) is outside UINT16's range 0..65535",
    ],
    [
      'FP32',
      [1, 2],
      'input in_fp32 (inputs[9].contents.fp32_contents): "data" has 2 elements but shape [2, 2] needs 4',
    ],
  ])(
    'INVALID_ARGUMENT for %s contents %j (typed fields wider than the datatype)',
    async (type, values, details) => {
      const error = await typedContents(type, values).catch((e: { code: number; details: string }) => e);
      expect({
        code: (error as { code: number }).code,
        details: (error as { details: string }).details,
      }).toEqual(invalid(details));
    },
  );

  it('takes infinities in fp32/fp64 contents: protobuf floats carry them as values', async () => {
    const reply = await typedContents('FP32', [
      Number.POSITIVE_INFINITY,
      -1,
      Number.NEGATIVE_INFINITY,
      3.4e38,
    ]);
    const i = reply.outputs.findIndex((o) => o.name === 'out_fp32');
    expect(Array.from(new Float32Array(new Uint8Array(reply.raw_output_contents[i]!).buffer))).toEqual([
      Number.POSITIVE_INFINITY,
      -1,
      Number.NEGATIVE_INFINITY,
      Math.fround(3.4e38),
    ]);
  });

  it('INVALID_ARGUMENT for a BOOL raw byte other than 0 or 1', async () => {
    const error = await t
      .call('ModelInfer', {
        model_name: 'identity_typed',
        inputs: [
          { name: 'in_bool', datatype: 'BOOL', shape: [2, 2] },
          ...TYPED.filter((d) => d !== 'BOOL').map((d) => ({
            name: `in_${d.toLowerCase()}`,
            datatype: d,
            shape: [2, 2],
          })),
        ],
        raw_input_contents: [
          Buffer.from([0, 1, 7, 0]),
          ...TYPED.filter((d) => d !== 'BOOL').map(() => Buffer.alloc(0)),
        ],
      })
      .catch((e: { code: number; details: string }) => e);
    expect(error).toMatchObject(
      invalid('input in_bool (raw_input_contents[0]): BOOL element 2 is byte 7; a BOOL must be 0 or 1'),
    );
  });
});
