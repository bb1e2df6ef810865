import { describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;

/** `ferry ARGV...` in-process (test-io.helper.ts), with the output names these tests use. */
const ferry = (...argv: string[]) =>
  runCli(argv).then(({ code, stdout: out, stderr: err }) => ({ code, out, err }));

describe('ferry scan', () => {
  it('exits 0 for clean files', async () => {
    const { code, out } = await ferry('scan', `${TORCH}state_dict.pt`, `${CORPUS}benign_p0.pkl`);
    expect(code).toBe(0);
    expect(out).toContain('state_dict.pt: pytorch: safe');
  });

  it('exits 1 with one line per finding', async () => {
    const { code, out } = await ferry('scan', `${CORPUS}pip_main.pkl`);
    expect(code).toBe(1);
    expect(out.trim().split('\n')).toEqual([
      `${CORPUS}pip_main.pkl: pickle: unsafe (1 findings)`,
      expect.stringMatching(/^ {2}CRITICAL dangerous-call: calls pip\.main: .* \[byte \d+\]$/),
    ]);
  });

  it('exits 2 when a file cannot be read, and says why; 1 when another file is unsafe', async () => {
    const { code, out } = await ferry('scan', `${CORPUS}truncated.pkl`, `${CORPUS}benign_p0.pkl`);
    expect(code).toBe(2);
    expect(out).toContain('truncated.pkl: error: FERRY_PICKLE_TRUNCATED');
    // The worst file decides: something found anywhere is 1, whatever else could not be read.
    const both = await ferry('scan', `${CORPUS}truncated.pkl`, `${CORPUS}pip_main.pkl`);
    expect(both.code).toBe(1);
    expect(both.out).toContain('truncated.pkl: error: FERRY_PICKLE_TRUNCATED');
  });

  it('exits 1, not 2, when a pickle runs os.system and then breaks (findings before the error)', async () => {
    const human = await ferry('scan', `${CORPUS}system_then_bad_memo.pkl`);
    expect(human.code).toBe(1);
    expect(human.out.trim().split('\n')).toEqual([
      `${CORPUS}system_then_bad_memo.pkl: pickle: unsafe (1 findings)`,
      expect.stringMatching(/^ {2}CRITICAL dangerous-call: calls os\.system: /),
      expect.stringMatching(/^ {2}then it does not parse: FERRY_PICKLE_MEMO: .*memo key 7/),
    ]);
    const json = await ferry('scan', '--json', `${CORPUS}system_then_bad_memo.pkl`);
    expect(json.code).toBe(1);
    // The old fields keep their names; the error is added beside the findings.
    expect(JSON.parse(json.out).files[0]).toEqual({
      path: `${CORPUS}system_then_bad_memo.pkl`,
      format: 'pickle',
      verdict: 'unsafe',
      findings: [expect.objectContaining({ severity: 'critical', rule: 'dangerous-call' })],
      error: { code: 'FERRY_PICKLE_MEMO', message: expect.stringContaining('memo key 7') },
    });
  });

  it('prints the documented JSON shape', async () => {
    const { code, out } = await ferry('scan', '--json', `${CORPUS}zip_nested.zip`, `${CORPUS}benign_p5.pkl`);
    expect(code).toBe(1);
    const json = JSON.parse(out);
    expect(Object.keys(json)).toEqual(['files']);
    expect(json.files[0]).toMatchObject({
      path: `${CORPUS}zip_nested.zip`,
      format: 'zip',
      verdict: 'unsafe',
    });
    expect(json.files[0].findings[0]).toEqual({
      severity: 'critical',
      rule: 'dangerous-call',
      class: 'code',
      message: expect.stringContaining('os.system'),
      location: expect.stringMatching(/^inner\.bin\/archive\/data\.pkl byte \d+$/),
    });
    expect(json.files[1]).toEqual({
      path: `${CORPUS}benign_p5.pkl`,
      format: 'pickle',
      verdict: 'safe',
      findings: [],
    });
  });

  it('inspect refuses an unsafe file unless --unsafe-inspect, which shows the graph', async () => {
    const refused = await ferry('inspect', `${CORPUS}pip_main.pkl`);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^ferry inspect: FERRY_PICKLE_REFUSED: .*pip\.main/);
    const shown = await ferry('inspect', '--unsafe-inspect', `${CORPUS}pip_main.pkl`);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('pip.main(["install", "evil"])');
  });

  it('scans a folder file by file', async () => {
    const clean = await ferry('scan', '--json', `${TORCH}`);
    expect(clean.code).toBe(0);
    const files = JSON.parse(clean.out).files as { path: string; verdict: string }[];
    expect(files.find((f) => f.path.endsWith('state_dict.pt'))?.verdict).toBe('safe');
    // expected.json is judged too: JSON read whole is data.
    expect(files.find((f) => f.path.endsWith('expected.json'))).toMatchObject({
      format: 'json',
      verdict: 'safe',
    });
    expect(files.length).toBeGreaterThan(10);
    const mixed = await ferry('scan', `${CORPUS}`);
    // The corpus holds malicious pickles: found beats unreadable. One that ran os.system before
    // breaking is unsafe itself (issue #16.4).
    expect(mixed.code).toBe(1);
    expect(mixed.out).toContain('payload_then_garbage.pkl: pickle: unsafe');
  });

  it('needs a path', async () => {
    expect((await ferry('scan')).code).toBe(2);
  });
});
