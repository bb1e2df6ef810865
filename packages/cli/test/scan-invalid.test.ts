import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-io.helper.js';

/**
 * Issue #18 item 2: "unsafe" means the file can run code or touch files or the network when
 * loaded. onnxruntime-extensions' custom_op_negpos.onnx (fixtures/wild, the real file) uses the
 * custom-op domain ai.onnx.contrib without an opset import: a structure problem, so `invalid`
 * (exit 2, bad input), never `unsafe` (exit 1). docs/security.md "Verdicts".
 */
const WILD = new URL('../../../fixtures/wild/', import.meta.url).pathname;
const CORPUS = new URL('../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const NEGPOS = `${WILD}custom_op_negpos.onnx`;
const dir = mkdtempSync(join(tmpdir(), 'ferry-scan-invalid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `ferry ARGV...` in-process (test-io.helper.ts), with the output names these tests use. */
const ferry = (...argv: string[]) =>
  runCli(argv).then(({ code, stdout: out, stderr: err }) => ({ code, out, err }));

describe('ferry scan: invalid is not unsafe', () => {
  it('custom_op_negpos.onnx (custom-op domain without opset import) is invalid, exit 2', async () => {
    const { code, out } = await ferry('scan', NEGPOS);
    expect(code).toBe(2);
    expect(out.trim().split('\n')).toEqual([
      `${NEGPOS}: onnx: invalid (1 findings)`,
      '  MEDIUM onnx-check/opset-missing: no opset_import for domain "ai.onnx.contrib" [main: node #0 (NegPos)]',
    ]);
  });

  it('--json shows the verdict and each finding class', async () => {
    const { code, out } = await ferry('scan', '--json', NEGPOS);
    expect(code).toBe(2);
    expect(JSON.parse(out).files).toEqual([
      {
        path: NEGPOS,
        format: 'onnx',
        verdict: 'invalid',
        findings: [
          {
            severity: 'medium',
            rule: 'onnx-check/opset-missing',
            class: 'invalid',
            message: 'no opset_import for domain "ai.onnx.contrib"',
            location: 'main: node #0 (NegPos)',
          },
        ],
      },
    ]);
  });

  it('a pickle whose data lies outside the file (NEXT_BUFFER) is invalid: pickle.load refuses it, nothing runs', async () => {
    const { code, out } = await ferry('scan', '--json', `${CORPUS}next_buffer.pkl`);
    expect(code).toBe(2);
    expect(JSON.parse(out).files[0]).toMatchObject({ verdict: 'invalid' });
  });

  it('the worst file decides: invalid + safe exits 2, invalid + unsafe exits 1', async () => {
    expect((await ferry('scan', NEGPOS, `${WILD}treecl.onnx`)).code).toBe(2);
    const mixed = await ferry('scan', NEGPOS, `${CORPUS}pip_main.pkl`);
    expect(mixed.code).toBe(1);
    expect(mixed.out).toContain(`${NEGPOS}: onnx: invalid`);
    expect(mixed.out).toContain(`${CORPUS}pip_main.pkl: pickle: unsafe`);
  });

  it('a folder holding an invalid model is invalid, not safe', async () => {
    writeFileSync(join(dir, 'model.onnx'), readFileSync(NEGPOS));
    writeFileSync(join(dir, 'config.json'), '{"a": 1}');
    const { code, out } = await ferry('scan', '--json', dir);
    expect(code).toBe(2);
    const verdicts = Object.fromEntries(
      (JSON.parse(out).files as { path: string; verdict: string }[]).map((f) => [
        f.path.slice(dir.length + 1),
        f.verdict,
      ]),
    );
    expect(verdicts).toEqual({ 'config.json': 'safe', 'model.onnx': 'invalid' });
  });
});
