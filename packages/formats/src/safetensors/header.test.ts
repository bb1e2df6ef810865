import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { BufferSource } from '../tensor/byte-source.js';
import { MAX_HEADER_SIZE } from './header.js';
import { readSafetensorsHeader } from './read.js';
import { buildFile, headerOf } from '../../test/safetensors-files.helper.js';

const PATH = 'bad.safetensors';
const read = (bytes: Uint8Array) => readSafetensorsHeader(new BufferSource(bytes, PATH));

async function rejects(bytes: Uint8Array, code: string, ...fragments: string[]): Promise<FerryError> {
  const error = await read(bytes).then(
    () => {
      throw new Error('expected a FerryError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe(code);
  expect((error as FerryError).message).toContain(PATH);
  for (const fragment of fragments) expect((error as FerryError).message).toContain(fragment);
  return error as FerryError;
}

const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, end],
});

describe('safetensors header: one error code per rule of the reference reader', () => {
  it('accepts a minimal valid file, in any listed order, with trailing space padding', async () => {
    const header = `${headerOf({ b: f32([1], 4, 8), a: f32([1], 0, 4) })}      `;
    const parsed = await read(buildFile(header, 8));
    expect(parsed.tensors.map((t) => [t.name, t.begin, t.end])).toEqual([
      ['a', 0, 4],
      ['b', 4, 8],
    ]);
    expect(parsed.dataStart).toBe(8 + header.length);
  });

  it('ignores unknown fields in a tensor entry, as serde does', async () => {
    const parsed = await read(buildFile(headerOf({ a: { ...f32([2], 0, 8), extra: [1, { x: 2 }] } }), 8));
    expect(parsed.tensors[0]!.shape).toEqual([2]);
  });

  it('reads __metadata__ null as absent and keeps escaped and non-ASCII strings', async () => {
    expect((await read(buildFile('{"__metadata__":null}'))).metadata).toEqual({});
    const parsed = await read(
      buildFile('{"__metadata__":{"k\\u00e9":"\\ud83d\\ude00 \\"q\\" \\n","__proto__":"x"}}'),
    );
    expect(parsed.metadata['k\u00e9']).toBe('\u{1F600} "q" \n');
    expect(Object.hasOwn(parsed.metadata, '__proto__')).toBe(true);
  });

  it('HEADER_TOO_SMALL: fewer than 8 bytes', async () => {
    await rejects(new Uint8Array(5), 'FERRY_SAFETENSORS_HEADER_TOO_SMALL', '5 bytes');
  });

  it('HEADER_TOO_LARGE: a length over 100 MB, and one over 2^63, before any allocation', async () => {
    await rejects(
      buildFile('{}', 0, BigInt(MAX_HEADER_SIZE + 1)),
      'FERRY_SAFETENSORS_HEADER_TOO_LARGE',
      '100000001',
    );
    await rejects(buildFile('{}', 0, (1n << 64n) - 1n), 'FERRY_SAFETENSORS_HEADER_TOO_LARGE', 'CWE-770');
  });

  it('HEADER_LENGTH: a length past the end of the file', async () => {
    await rejects(buildFile('{}', 0, 1000n), 'FERRY_SAFETENSORS_HEADER_LENGTH', '1000');
  });

  it('HEADER_UTF8: invalid UTF-8', async () => {
    await rejects(buildFile(new Uint8Array([0x7b, 0xff, 0x7d])), 'FERRY_SAFETENSORS_HEADER_UTF8');
  });

  it("HEADER_START: anything but '{' first (whitespace, BOM, an array, an empty header)", async () => {
    await rejects(buildFile(' {}'), 'FERRY_SAFETENSORS_HEADER_START', '" "');
    await rejects(buildFile('\ufeff{}'), 'FERRY_SAFETENSORS_HEADER_START');
    await rejects(buildFile('[]'), 'FERRY_SAFETENSORS_HEADER_START');
    await rejects(buildFile(''), 'FERRY_SAFETENSORS_HEADER_START', 'empty');
  });

  it('HEADER_JSON: broken JSON, trailing garbage, nesting past the depth limit, lone surrogates', async () => {
    await rejects(buildFile('{"a":'), 'FERRY_SAFETENSORS_HEADER_JSON');
    await rejects(buildFile('{} x'), 'FERRY_SAFETENSORS_HEADER_JSON', 'trailing');
    await rejects(buildFile('{}\0\0'), 'FERRY_SAFETENSORS_HEADER_JSON');
    await rejects(
      buildFile(`{"a":{"x":${'['.repeat(200)}${']'.repeat(200)}}}`),
      'FERRY_SAFETENSORS_HEADER_JSON',
      'nesting',
    );
    await rejects(
      buildFile('{"__metadata__":{"a":"\\ud800"}}'),
      'FERRY_SAFETENSORS_HEADER_JSON',
      'surrogate',
    );
    await rejects(buildFile('{"a\tb":1}'), 'FERRY_SAFETENSORS_HEADER_JSON', 'control');
  });

  it('DUPLICATE_KEY: a tensor twice, a metadata key twice, a field twice', async () => {
    const t = JSON.stringify(f32([1], 0, 4));
    await rejects(buildFile(`{"w":${t},"w":${t}}`, 4), 'FERRY_SAFETENSORS_DUPLICATE_KEY', '"w"');
    await rejects(
      buildFile('{"__metadata__":{"a":"1","a":"2"}}'),
      'FERRY_SAFETENSORS_DUPLICATE_KEY',
      '"a"',
      'in the header\'s "__metadata__"',
    );
    await rejects(buildFile('{"__metadata__":{},"__metadata__":{}}'), 'FERRY_SAFETENSORS_DUPLICATE_KEY');
    await rejects(
      buildFile('{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
      'FERRY_SAFETENSORS_DUPLICATE_KEY',
      '"dtype"',
    );
  });

  it('METADATA: not an object, or a value that is not a string', async () => {
    await rejects(buildFile('{"__metadata__":["a"]}'), 'FERRY_SAFETENSORS_METADATA', 'array');
    await rejects(buildFile('{"__metadata__":{"n":1}}'), 'FERRY_SAFETENSORS_METADATA', '"n"', 'integer 1');
    await rejects(buildFile('{"__metadata__":{"n":null}}'), 'FERRY_SAFETENSORS_METADATA', 'null');
  });

  it('TENSOR_INFO: entries and fields of the wrong shape', async () => {
    const code = 'FERRY_SAFETENSORS_TENSOR_INFO';
    await rejects(buildFile('{"w":[1]}'), code, '"w"', 'not an object');
    await rejects(
      buildFile(headerOf({ w: { shape: [1], data_offsets: [0, 4] } }), 4),
      code,
      'dtype',
      'missing',
    );
    await rejects(
      buildFile(headerOf({ w: { dtype: 3, shape: [1], data_offsets: [0, 4] } }), 4),
      code,
      'dtype',
    );
    await rejects(
      buildFile(headerOf({ w: { dtype: 'F32', data_offsets: [0, 4] } }), 4),
      code,
      'shape',
      'missing',
    );
    await rejects(buildFile(headerOf({ w: f32([-1], 0, 4) }), 4), code, 'shape[0]', '-1');
    await rejects(buildFile('{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', 4), code, 'shape[0]');
    await rejects(buildFile('{"w":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', 4), code, 'shape[0]');
    await rejects(
      buildFile(headerOf({ w: { dtype: 'F32', shape: [1] } }), 4),
      code,
      'data_offsets',
      'missing',
    );
    await rejects(
      buildFile(headerOf({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }), 4),
      code,
      'two offsets',
    );
    await rejects(
      buildFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}', 4),
      code,
      'data_offsets[1]',
    );
  });

  it('DTYPE: a dtype outside the table (the reference knows F4; ferry does not)', async () => {
    await rejects(
      buildFile(headerOf({ w: { dtype: 'F4', shape: [2], data_offsets: [0, 1] } }), 1),
      'FERRY_SAFETENSORS_DTYPE',
      '"F4"',
    );
    await rejects(
      buildFile(headerOf({ w: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }), 4),
      'FERRY_SAFETENSORS_DTYPE',
    );
  });

  it('OFFSET_GAP: a hole at the start or between tensors', async () => {
    await rejects(
      buildFile(headerOf({ a: f32([1], 4, 8) }), 8),
      'FERRY_SAFETENSORS_OFFSET_GAP',
      'tensor a',
      'ends at 0',
    );
    await rejects(
      buildFile(headerOf({ a: f32([1], 0, 4), b: f32([1], 8, 12) }), 12),
      'FERRY_SAFETENSORS_OFFSET_GAP',
      'tensor b',
    );
  });

  it('OFFSET_OVERLAP: two tensors over the same bytes', async () => {
    await rejects(
      buildFile(headerOf({ a: f32([2], 0, 8), b: f32([1], 4, 8) }), 8),
      'FERRY_SAFETENSORS_OFFSET_OVERLAP',
      'ends at 8',
    );
  });

  it('OFFSET_ORDER: end before begin', async () => {
    await rejects(
      buildFile(headerOf({ a: f32([0], 0, 0), b: f32([1], 0, 4), c: f32([1], 4, 0) }), 4),
      'FERRY_SAFETENSORS_OFFSET_ORDER',
    );
    await rejects(buildFile(headerOf({ a: f32([1], 8, 4) }), 8), 'FERRY_SAFETENSORS_OFFSET_GAP');
  });

  it('OVERFLOW: an element count or byte count past 64 bits, with exact bigint arithmetic', async () => {
    await rejects(buildFile(headerOf({ a: f32([2 ** 32, 2 ** 32], 0, 4) }), 4), 'FERRY_SAFETENSORS_OVERFLOW');
    // 2^62 elements fit in u64, 2^62 x 4 bytes do not.
    await rejects(
      buildFile(`{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}}`, 4),
      'FERRY_SAFETENSORS_OVERFLOW',
    );
    // The reference folds left to right, so a later 0 does not rescue an overflow.
    await rejects(buildFile(headerOf({ a: f32([2 ** 40, 2 ** 40, 0], 0, 0) })), 'FERRY_SAFETENSORS_OVERFLOW');
  });

  it('BYTE_LENGTH: offsets that disagree with shape x dtype size, including huge exact ones', async () => {
    await rejects(buildFile(headerOf({ a: f32([2], 0, 4) }), 4), 'FERRY_SAFETENSORS_BYTE_LENGTH', 'needs 8');
    // 2^53 + 1 would round to 2^53 as a float: bigint keeps it exact and the mismatch visible.
    await rejects(
      buildFile('{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,9007199254740992]}}'),
      'FERRY_SAFETENSORS_BYTE_LENGTH',
      '9007199254740993',
    );
  });

  it('BUFFER_END: data shorter or longer than the offsets say', async () => {
    await rejects(
      buildFile(headerOf({ a: f32([2], 0, 8) }), 4),
      'FERRY_SAFETENSORS_BUFFER_END',
      'end at byte',
    );
    await rejects(buildFile(headerOf({ a: f32([1], 0, 4) }), 5), 'FERRY_SAFETENSORS_BUFFER_END');
    await rejects(buildFile('{}', 1), 'FERRY_SAFETENSORS_BUFFER_END');
  });
});
