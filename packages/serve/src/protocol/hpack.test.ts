import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackDecoder, HpackError, type HeaderField, literalHeaderBlock } from './hpack.js';
import { HUFFMAN_CODES, huffmanDecode } from './hpack-huffman.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** RFC 7541 Appendix C: each block, what it decodes to, and the dynamic table after it (newest first). */
interface Example {
  readonly block: string;
  readonly fields: HeaderField[];
  readonly table: HeaderField[];
  readonly bytes: number;
}

const REQUEST_FIELDS: HeaderField[][] = [
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ],
];
const REQUEST_TABLES: Pick<Example, 'table' | 'bytes'>[] = [
  { table: [[':authority', 'www.example.com']], bytes: 57 },
  {
    table: [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    bytes: 110,
  },
  {
    table: [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    bytes: 164,
  },
];
const DATE_21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const LOCATION = 'https://www.example.com';
const RESPONSE_FIELDS: HeaderField[][] = [
  [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', DATE_21],
    ['location', LOCATION],
  ],
  [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', DATE_21],
    ['location', LOCATION],
  ],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', DATE_22],
    ['location', LOCATION],
    ['content-encoding', 'gzip'],
    ['set-cookie', COOKIE],
  ],
];
// with a 256-byte table, the second and third responses evict the oldest entries (C.5.2, C.5.3)
const RESPONSE_TABLES: Pick<Example, 'table' | 'bytes'>[] = [
  {
    table: [
      ['location', LOCATION],
      ['date', DATE_21],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    bytes: 222,
  },
  {
    table: [
      [':status', '307'],
      ['location', LOCATION],
      ['date', DATE_21],
      ['cache-control', 'private'],
    ],
    bytes: 222,
  },
  {
    table: [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE_22],
    ],
    bytes: 215,
  },
];

const examples = (blocks: string[], fields: HeaderField[][], tables: Pick<Example, 'table' | 'bytes'>[]) =>
  blocks.map((block, i) => ({ block, fields: fields[i]!, ...tables[i]! }));

const SEQUENCES: Record<string, { tableBytes: number; examples: Example[] }> = {
  'C.3 requests without Huffman': {
    tableBytes: 4096,
    examples: examples(
      [
        '828684410f7777772e6578616d706c652e636f6d',
        '828684be58086e6f2d6361636865',
        '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
      ],
      REQUEST_FIELDS,
      REQUEST_TABLES,
    ),
  },
  'C.4 requests with Huffman': {
    tableBytes: 4096,
    examples: examples(
      [
        '828684418cf1e3c2e5f23a6ba0ab90f4ff',
        '828684be5886a8eb10649cbf',
        '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
      ],
      REQUEST_FIELDS,
      REQUEST_TABLES,
    ),
  },
  'C.5 responses without Huffman, evicting': {
    tableBytes: 256,
    examples: examples(
      [
        `4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54
         6e1768747470733a2f2f7777772e6578616d706c652e636f6d`,
        '4803333037c1c0bf',
        `88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f
         3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076
         657273696f6e3d31`,
      ],
      RESPONSE_FIELDS,
      RESPONSE_TABLES,
    ),
  },
  'C.6 responses with Huffman, evicting': {
    tableBytes: 256,
    examples: examples(
      [
        '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
        '4883640effc1c0bf',
        `88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdf
         cd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007`,
      ],
      RESPONSE_FIELDS,
      RESPONSE_TABLES,
    ),
  },
};

describe('HPACK decoder, RFC 7541 Appendix C', () => {
  for (const [name, sequence] of Object.entries(SEQUENCES))
    it(`decodes ${name}, one context across the blocks`, () => {
      const decoder = new HpackDecoder(sequence.tableBytes);
      for (const example of sequence.examples) {
        expect(decoder.decode(hex(example.block))).toEqual(example.fields);
        expect(decoder.dynamicTable).toEqual({ entries: example.table, bytes: example.bytes });
      }
    });
});

describe('HPACK decoder, malformed blocks', () => {
  const refuses = (block: string, message: RegExp, decoder = new HpackDecoder()) =>
    expect(() => decoder.decode(hex(block))).toThrow(message);

  it('refuses index 0 and an index beyond both tables', () => {
    refuses('80', /index 0/);
    refuses('be', /index 62 beyond the 0-entry dynamic table/);
  });

  it('refuses blocks that end inside an integer or a string', () => {
    refuses('ff', /ends inside an integer/);
    refuses('ff80', /ends inside an integer/);
    refuses('400a6162', /string of 10 octets, 2 left/);
    refuses('40', /ends before a string/);
  });

  it('refuses an integer above 2^31 - 1 (a run of continuation bytes)', () => {
    refuses('ffffffffffff7f', /integer above/);
  });

  it('refuses a table size update above the setting, or after a field', () => {
    refuses('3fe21f', /size update to 4097 above the 4096 allowed/);
    refuses('823f', /size update after a header field/);
  });

  it('applies a size update: the table shrinks and evicts', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('828684410f7777772e6578616d706c652e636f6d'));
    expect(decoder.dynamicTable.bytes).toBe(57);
    expect(decoder.decode(hex('2082'))).toEqual([[':method', 'GET']]); // size 0, then index 2
    expect(decoder.dynamicTable).toEqual({ entries: [], bytes: 0 });
    refuses('be', /beyond the 0-entry dynamic table/, decoder);
  });

  it('does not add an entry larger than the table, and empties it (RFC 7541 4.4)', () => {
    const decoder = new HpackDecoder(64);
    decoder.decode(hex('4003616263036465 66')); // abc: def, 38 bytes
    expect(decoder.dynamicTable.bytes).toBe(38);
    const big = Buffer.concat([hex('400161'), Buffer.from([0x7f, 0x01]), Buffer.alloc(128, 0x62)]);
    expect(decoder.decode(big)).toEqual([['a', 'b'.repeat(128)]]);
    expect(decoder.dynamicTable).toEqual({ entries: [], bytes: 0 });
  });

  it('throws nothing but HpackError on any bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }), (blocks) => {
        const decoder = new HpackDecoder();
        for (const block of blocks)
          try {
            decoder.decode(block);
          } catch (error) {
            expect(error).toBeInstanceOf(HpackError);
          }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('HPACK Huffman code', () => {
  it('derives Appendix B codes from the code lengths', () => {
    // a sample of Appendix B: the first and last of each length in the table, EOS, and symbol 0
    expect(HUFFMAN_CODES[0]).toEqual({ code: 0x1ff8, bits: 13 });
    expect(HUFFMAN_CODES[48]).toEqual({ code: 0x0, bits: 5 }); // '0'
    expect(HUFFMAN_CODES[116]).toEqual({ code: 0x9, bits: 5 }); // 't'
    expect(HUFFMAN_CODES[32]).toEqual({ code: 0x14, bits: 6 }); // ' '
    expect(HUFFMAN_CODES[122]).toEqual({ code: 0x7b, bits: 7 }); // 'z'
    expect(HUFFMAN_CODES[92]).toEqual({ code: 0x7fff0, bits: 19 }); // '\'
    expect(HUFFMAN_CODES[255]).toEqual({ code: 0x3ffffee, bits: 26 });
    expect(HUFFMAN_CODES[22]).toEqual({ code: 0x3ffffffe, bits: 30 });
    expect(HUFFMAN_CODES[256]).toEqual({ code: 0x3fffffff, bits: 30 }); // EOS
    // a complete prefix code: the lengths' Kraft sum is exactly 1
    expect(HUFFMAN_CODES.reduce((sum, { bits }) => sum + 2 ** (30 - bits), 0)).toBe(2 ** 30);
  });

  it('decodes every octet string it encodes (an encoder written from the same codes)', () => {
    const encode = (bytes: Uint8Array) => {
      let bits = '';
      for (const byte of bytes)
        bits += HUFFMAN_CODES[byte]!.code.toString(2).padStart(HUFFMAN_CODES[byte]!.bits, '0');
      bits += '1'.repeat((8 - (bits.length % 8)) % 8);
      return Uint8Array.from(bits.match(/.{8}/g) ?? [], (octet) => Number.parseInt(octet, 2));
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(huffmanDecode(encode(bytes))).toBe(Buffer.from(bytes).toString('latin1'));
      }),
    );
  });

  it('refuses EOS in a string, padding longer than 7 bits, and padding that is not all 1s', () => {
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(/contains EOS/);
    expect(() => huffmanDecode(hex('1fff'))).toThrow(/padding of 11 bits/); // 'a' then 11 one bits
    expect(() => huffmanDecode(hex('1e'))).toThrow(/not the EOS prefix/); // 'a' then 110
  });
});

describe('HPACK request block', () => {
  it('encodes literal fields without indexing or Huffman, which the decoder reads back and leaves unindexed', () => {
    const fields: HeaderField[] = [
      [':path', `/${'p'.repeat(200)}`],
      ['te', 'trailers'],
    ];
    const block = literalHeaderBlock(fields);
    expect(block[0]).toBe(0x00);
    const decoder = new HpackDecoder();
    expect(decoder.decode(block)).toEqual(fields);
    expect(decoder.dynamicTable.entries).toEqual([]);
  });
});
