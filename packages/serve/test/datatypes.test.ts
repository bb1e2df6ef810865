import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, makeRepo, startTestServer, type TestServer } from './test-server.helper.js';

/**
 * Every protocol datatype ONNX Runtime carries, through the identity model, in JSON, in the
 * binary tensor data extension and over gRPC (typed contents and raw_input_contents).
 * The encoders here are written independently of the server's codec.
 */
let t: TestServer;

const TYPES = Object.keys(EXPECTED.identity);
const values = (type: string) => EXPECTED.identity[type]!;

/** Little-endian bytes of one datatype's expected values, by hand. */
function rawBytes(type: string): Buffer {
  const v = values(type);
  const out = (size: number, write: (b: Buffer, x: never, i: number) => void) => {
    const b = Buffer.alloc(size * v.length);
    v.forEach((x, i) => {
      write(b, x as never, i * size);
    });
    return b;
  };
  switch (type) {
    case 'BOOL':
      return out(1, (b, x: boolean, o) => b.writeUInt8(x ? 1 : 0, o));
    case 'UINT8':
      return out(1, (b, x: number, o) => b.writeUInt8(x, o));
    case 'INT8':
      return out(1, (b, x: number, o) => b.writeInt8(x, o));
    case 'UINT16':
      return out(2, (b, x: number, o) => b.writeUInt16LE(x, o));
    case 'INT16':
      return out(2, (b, x: number, o) => b.writeInt16LE(x, o));
    case 'UINT32':
      return out(4, (b, x: number, o) => b.writeUInt32LE(x, o));
    case 'INT32':
      return out(4, (b, x: number, o) => b.writeInt32LE(x, o));
    case 'UINT64':
      return out(8, (b, x: string, o) => b.writeBigUInt64LE(BigInt(x), o));
    case 'INT64':
      return out(8, (b, x: string, o) => b.writeBigInt64LE(BigInt(x), o));
    case 'FP16': {
      // 0.5, -2, 65504, 2^-10 as IEEE binary16
      const bits = [0x3800, 0xc000, 0x7bff, 0x1400];
      return out(2, (b, _x, o) => b.writeUInt16LE(bits[o / 2]!, o));
    }
    case 'FP32':
      return out(4, (b, x: number, o) => b.writeFloatLE(x, o));
    case 'FP64':
      return out(8, (b, x: number, o) => b.writeDoubleLE(x, o));
    case 'BYTES':
      return Buffer.concat(
        v.map((s) => {
          const bytes = Buffer.from(s as string, 'utf8');
          const len = Buffer.alloc(4);
          len.writeUInt32LE(bytes.length);
          return Buffer.concat([len, bytes]);
        }),
      );
  }
  throw new Error(type);
}

/** JSON text of the expected values as the server writes them (64-bit integers as exact digits). */
const jsonData = (type: string) =>
  type === 'UINT64' || type === 'INT64' ? `[${values(type).join(',')}]` : JSON.stringify(values(type));

/** Every identity input with its expected values as JSON data. */
const jsonInputs = () =>
  TYPES.map((type) => ({
    name: `in_${type.toLowerCase()}`,
    shape: [2, 2],
    datatype: type,
    data: values(type),
  }));

// each instance placement converts tensors its own way: the worker moves owned copies to its
// thread, the event loop reads request bytes in place (copying views whose offset does not suit
// the element type, as the binary extension's odd header lengths make)
describe.each(['worker', 'event_loop'] as const)('instances on the %s', (placement) => {
  let repo: ReturnType<typeof makeRepo>;
  beforeAll(async () => {
    const config = `instances:\n  placement: ${placement}\n`;
    repo = makeRepo({ identity: config, identity_typed: config });
    t = await startTestServer(repo.root);
    expect(t.server.repository.resolve('identity').placement).toBe(placement);
  });
  afterAll(async () => {
    await t.close();
    repo.cleanup();
  });

  describe('every datatype', () => {
    it('JSON in, JSON out (64-bit integers given as strings come back as exact numbers)', async () => {
      const response = await fetch(`${t.url}/v2/models/identity/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: jsonInputs(),
        }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      for (const type of TYPES)
        expect(text).toContain(
          `{"name":"out_${type.toLowerCase()}","datatype":"${type}","shape":[2,2],"data":${jsonData(type)}}`,
        );
    });

    it('binary tensor data in and out (Inference-Header-Content-Length)', async () => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: TYPES.map((type) => ({
            name: `in_${type.toLowerCase()}`,
            shape: [2, 2],
            datatype: type,
            parameters: { binary_data_size: rawBytes(type).length },
          })),
          parameters: { binary_data_output: true },
        }),
      );
      const response = await fetch(`${t.url}/v2/models/identity/infer`, {
        method: 'POST',
        headers: {
          'inference-header-content-length': String(header.length),
          'content-type': 'application/octet-stream',
        },
        body: Buffer.concat([header, ...TYPES.map(rawBytes)]),
      });
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      const length = Number(response.headers.get('inference-header-content-length'));
      const json = JSON.parse(body.subarray(0, length).toString()) as {
        outputs: {
          name: string;
          datatype: string;
          shape: number[];
          parameters: { binary_data_size: number };
        }[];
      };
      let offset = length;
      for (const output of json.outputs) {
        const type = output.datatype;
        expect(output.name).toBe(`out_${type.toLowerCase()}`);
        const size = output.parameters.binary_data_size;
        expect(body.subarray(offset, offset + size)).toEqual(rawBytes(type));
        offset += size;
      }
      expect(offset).toBe(body.length);
      expect(json.outputs.map((o) => o.datatype)).toEqual(TYPES);
    });

    it('binary output chosen per output, JSON for the rest', async () => {
      const response = await fetch(`${t.url}/v2/models/identity/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: jsonInputs(),
          outputs: [{ name: 'out_fp16', parameters: { binary_data: true } }, { name: 'out_int8' }],
        }),
      });
      const body = Buffer.from(await response.arrayBuffer());
      const length = Number(response.headers.get('inference-header-content-length'));
      const json = JSON.parse(body.subarray(0, length).toString());
      expect(json.outputs).toEqual([
        { name: 'out_fp16', datatype: 'FP16', shape: [2, 2], parameters: { binary_data_size: 8 } },
        { name: 'out_int8', datatype: 'INT8', shape: [2, 2], data: values('INT8') },
      ]);
      expect(body.subarray(length)).toEqual(rawBytes('FP16'));
    });

    it('400 when binary sizes do not add up', async () => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: TYPES.map((type) => ({
            name: `in_${type.toLowerCase()}`,
            shape: [2, 2],
            datatype: type,
            parameters: { binary_data_size: type === 'FP32' ? 12 : rawBytes(type).length },
          })),
        }),
      );
      const response = await fetch(`${t.url}/v2/models/identity/infer`, {
        method: 'POST',
        headers: { 'inference-header-content-length': String(header.length) },
        body: Buffer.concat([header, ...TYPES.map(rawBytes)]),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(
        'input in_fp32 (inputs[10] binary data): binary data is 12 bytes but shape [2, 2] of FP32 needs 16',
      );
    });

    it('400 for integers out of range', async () => {
      const response = await fetch(`${t.url}/v2/models/identity/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: TYPES.map((type) => ({
            name: `in_${type.toLowerCase()}`,
            shape: [2, 2],
            datatype: type,
            data: type === 'UINT8' ? [1, 256, 0, 0] : values(type),
          })),
        }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(
        "input in_uint8 (inputs[1].data): element 1 (256) is outside UINT8's range 0..255",
      );
    });

    it('gRPC raw_input_contents in, raw_output_contents out', async () => {
      const reply = await t.call<{
        outputs: { name: string; datatype: string; shape: string[] }[];
        raw_output_contents: Buffer[];
      }>('ModelInfer', {
        model_name: 'identity',
        inputs: TYPES.map((type) => ({ name: `in_${type.toLowerCase()}`, shape: [2, 2], datatype: type })),
        raw_input_contents: TYPES.map(rawBytes),
      });
      expect(reply.outputs.map((o) => o.datatype)).toEqual(TYPES);
      expect(reply.outputs[0]!.shape).toEqual(['2', '2']);
      reply.raw_output_contents.forEach((raw, i) => {
        expect(Buffer.from(raw)).toEqual(rawBytes(TYPES[i]!));
      });
    });

    it('gRPC typed contents in (every type with a contents field)', async () => {
      const field: Record<string, string> = {
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
      const contents = (type: string) => ({
        [field[type]!]: type === 'BYTES' ? values(type).map((s) => Buffer.from(s as string)) : values(type),
      });
      const typed = TYPES.filter((type) => type !== 'FP16');
      const reply = await t.call<{ raw_output_contents: Buffer[]; outputs: { datatype: string }[] }>(
        'ModelInfer',
        {
          model_name: 'identity_typed',
          inputs: typed.map((type) => ({
            name: `in_${type.toLowerCase()}`,
            shape: [2, 2],
            datatype: type,
            contents: contents(type),
          })),
        },
      );
      expect(reply.outputs.map((o) => o.datatype)).toEqual(typed);
      reply.raw_output_contents.forEach((raw, i) => {
        expect(Buffer.from(raw)).toEqual(rawBytes(typed[i]!));
      });
      // FP16 has no typed field: the spec says it must travel raw
      const error = await t
        .call('ModelInfer', {
          model_name: 'identity',
          inputs: TYPES.map((type) => ({
            name: `in_${type.toLowerCase()}`,
            shape: [2, 2],
            datatype: type,
            ...(type !== 'FP16' && { contents: contents(type) }),
          })),
        })
        .catch((e: Error) => e);
      expect((error as Error).message).toBe(
        '3 INVALID_ARGUMENT: request field inputs[9].contents: FP16 has no typed contents field; send input in_fp16 in raw_input_contents',
      );
    });
  });

  describe('BYTES the runtime cannot hold', () => {
    it.each([
      ['a NUL byte', Buffer.from('a\u0000b'), /BYTES element 1 contains a NUL byte/],
      ['invalid UTF-8', Buffer.from([0xff, 0xfe]), /BYTES element 1 is not valid UTF-8/],
    ])('400 for %s (never silently truncated)', async (_what, bad, message) => {
      const inputs = TYPES.map((type) => ({
        name: `in_${type.toLowerCase()}`,
        shape: [2, 2],
        datatype: type,
      }));
      const raw = TYPES.map((type) => {
        if (type !== 'BYTES') return rawBytes(type);
        const parts = [Buffer.from('ok'), bad, Buffer.from('c'), Buffer.from('d')];
        return Buffer.concat(parts.flatMap((p) => [Buffer.from(new Uint32Array([p.length]).buffer), p]));
      });
      const error = await t
        .call('ModelInfer', { model_name: 'identity', inputs, raw_input_contents: raw })
        .catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^3 INVALID_ARGUMENT: input in_bytes: /);
      expect((error as Error).message).toMatch(message);
    });
  });
});
