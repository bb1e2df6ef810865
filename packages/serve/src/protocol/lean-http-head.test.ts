import { describe, expect, it } from 'vitest';
import { MAX_LEAN_HEAD_BYTES, readLeanHead } from './lean-http-head.js';

const head = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
const read = (bytes: Buffer) => readLeanHead(bytes, 0, bytes.length);
const plain = [
  'POST /v2/models/mlp/versions/2/infer HTTP/1.1',
  'Host: x',
  'content-length: 12',
  'Inference-Header-Content-Length: 7',
  'X-Request-Id: r-1',
  'Connection: Keep-Alive',
];

describe('readLeanHead', () => {
  it('reads a plain infer head: model, version, length, ids, where the body starts', () => {
    const bytes = Buffer.concat([head(plain), Buffer.from('body')]);
    expect(read(bytes)).toEqual({
      model: 'mlp',
      version: '2',
      path: '/v2/models/mlp/versions/2/infer',
      contentLength: 12,
      requestId: 'r-1',
      inferenceHeaderLength: '7',
      headBytes: bytes.length - 4,
    });
  });

  it('waits for the rest of a head that may still be plain, at every split', () => {
    const bytes = head(plain);
    for (let n = 0; n < bytes.length; n++) expect(read(bytes.subarray(0, n))).toBe('incomplete');
  });

  it('hands off at once what cannot be a plain infer head', () => {
    for (const start of [
      'GET /v2/health/live HTTP/1.1\r\n',
      'POST /v2/repository/',
      'POST /v2/models/m\n',
      'POST /v2/models/m\x00',
    ])
      expect(read(Buffer.from(start, 'latin1'))).toBe('handoff');
    expect(read(Buffer.from(`POST /v2/models/${'m'.repeat(MAX_LEAN_HEAD_BYTES)}`))).toBe('handoff');
  });

  it.each([
    ['HTTP/1.0', (l: string[]) => [l[0]!.replace('HTTP/1.1', 'HTTP/1.0'), ...l.slice(1)]],
    ['a query string', (l: string[]) => [l[0]!.replace('/infer', '/infer?x=1'), ...l.slice(1)]],
    ['an escaped name', (l: string[]) => [l[0]!.replace('mlp', 'm%6Cp'), ...l.slice(1)]],
    ['two spaces', (l: string[]) => [l[0]!.replace(' HTTP', '  HTTP'), ...l.slice(1)]],
    ['Transfer-Encoding', (l: string[]) => [...l, 'Transfer-Encoding: chunked']],
    ['a second Content-Length', (l: string[]) => [...l, 'Content-Length: 12']],
    [
      'a Content-Length list',
      (l: string[]) => l.map((s) => s.replace('content-length: 12', 'content-length: 12, 12')),
    ],
    [
      'a signed Content-Length',
      (l: string[]) => l.map((s) => s.replace('content-length: 12', 'content-length: +12')),
    ],
    ['no Content-Length', (l: string[]) => l.filter((s) => !s.startsWith('content-length'))],
    ['no Host', (l: string[]) => l.filter((s) => !s.startsWith('Host'))],
    ['two Hosts', (l: string[]) => [...l, 'Host: y']],
    ['obs-fold', (l: string[]) => [...l, 'X-A: 1', ' 2']],
    ['whitespace before a colon', (l: string[]) => [...l, 'X-A : 1']],
    ['a bare LF', (l: string[]) => [...l, 'X-A: 1\nX-B: 2']],
    ['a bare CR', (l: string[]) => [...l, 'X-A: 1\rX-B: 2']],
    ['a control byte', (l: string[]) => [...l, 'X-A: 1\x01']],
    ['obs-text', (l: string[]) => [...l, 'X-A: \xe9']],
    ['Expect', (l: string[]) => [...l, 'Expect: 100-continue']],
    ['Upgrade', (l: string[]) => [...l, 'Upgrade: h2c']],
    ['Connection: close', (l: string[]) => l.map((s) => s.replace('Keep-Alive', 'close'))],
    ['two request ids', (l: string[]) => [...l, 'X-Request-Id: r-2']],
  ])('hands off %s', (_name, change) => {
    expect(read(head(change(plain)))).toBe('handoff');
  });
});
