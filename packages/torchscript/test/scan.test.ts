import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './torch-fixtures.helper.js';
import { isTorchScriptError } from '../src/errors.js';
import { scanBeforeLoad } from '../src/scan.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-ts-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorOf(path: string): Promise<{ code: string; message: string }> {
  try {
    await scanBeforeLoad(path);
  } catch (error) {
    if (!isTorchScriptError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('no error');
}

describe('scanBeforeLoad', () => {
  it('accepts every fixture torch.jit.save wrote and lists its pickles', async () => {
    for (const file of ['mlp_traced.pt', 'control_flow.pt', 'all_dtypes.pt', 'dict_out.pt', 'stateful.pt']) {
      const archive = await scanBeforeLoad(FIXTURES + file);
      expect(archive.root).toBe(file.replace('.pt', ''));
      expect(archive.pickles).toContain(`${archive.root}/data.pkl`);
      expect(archive.pickles).toContain(`${archive.root}/constants.pkl`);
    }
    const mlp = await scanBeforeLoad(`${FIXTURES}mlp_traced.pt`);
    expect(mlp.entries).toBe(15);
    expect(mlp.pickles.filter((p) => p.endsWith('.debug_pkl'))).toHaveLength(4);
  });

  it('refuses an archive whose data.pkl calls os.system, naming the finding, before libtorch sees it', async () => {
    const { code, message } = await errorOf(`${FIXTURES}hostile_data_pkl.pt`);
    expect(code).toBe('FERRY_TORCHSCRIPT_UNSAFE');
    expect(message).toContain('critical dangerous-call: calls os.system');
    expect(message).toContain('mlp_traced/data.pkl');
  });

  it('refuses a torch.save checkpoint with a hint to script or trace it', async () => {
    const { code, message } = await errorOf(`${FIXTURES}checkpoint.pt`);
    expect(code).toBe('FERRY_TORCHSCRIPT_ARCHIVE');
    expect(message).toContain('no code/ folder: this looks like a torch.save checkpoint');
    expect(message).toContain('torch.jit.script(model)');
  });

  it('refuses a member outside the archive folder, a non-zip, data before the zip, and a missing file', async () => {
    expect((await errorOf(`${FIXTURES}stray_member.pt`)).message).toBe(
      `${FIXTURES}stray_member.pt: not a TorchScript archive: member elsewhere/readme.txt is outside the archive folder mlp_traced/ (every member must share one folder)`,
    );
    const text = join(dir, 'text.pt');
    writeFileSync(text, 'def forward(x): return x\n');
    expect(await errorOf(text)).toMatchObject({ code: 'FERRY_TORCHSCRIPT_ARCHIVE' });
    expect((await errorOf(text)).message).toContain('not a readable zip');
    const prefixed = join(dir, 'prefixed.pt');
    writeFileSync(
      prefixed,
      Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), readFileSync(`${FIXTURES}mlp_traced.pt`)]),
    );
    expect((await errorOf(prefixed)).message).toContain('17 bytes precede the zip data');
    expect(await errorOf(join(dir, 'missing.pt'))).toEqual({
      code: 'FERRY_TORCHSCRIPT_LOAD',
      message: `${join(dir, 'missing.pt')}: cannot load the TorchScript module: no such file`,
    });
  });

  it('fuzz: bit flips, truncations and splices of a real archive give a result or a TorchScriptError', async () => {
    const original = readFileSync(`${FIXTURES}mlp_traced.pt`);
    const other = readFileSync(`${FIXTURES}dict_out.pt`);
    const target = join(dir, 'fuzz.pt');
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(original.length - 1), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(original.length) }),
      fc.record({
        kind: fc.constant('splice' as const),
        at: fc.nat(original.length),
        from: fc.nat(other.length - 1),
        length: fc.integer({ min: 1, max: 512 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        let bytes = Buffer.from(original);
        for (const m of mutations) {
          if (m.kind === 'flip' && m.at < bytes.length) bytes[m.at]! ^= 1 << m.bit;
          else if (m.kind === 'truncate') bytes = bytes.subarray(0, Math.min(m.at, bytes.length));
          else if (m.kind === 'splice')
            bytes = Buffer.concat([
              bytes.subarray(0, m.at),
              other.subarray(m.from, m.from + m.length),
              bytes.subarray(m.at),
            ]);
        }
        writeFileSync(target, bytes);
        try {
          await scanBeforeLoad(target);
        } catch (error) {
          if (!isTorchScriptError(error)) throw error;
          expect(error.message).not.toContain('\n');
        }
      }),
      { numRuns: 300 },
    );
  });
});
