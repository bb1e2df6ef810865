import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dtypeSize } from '@ferry/formats';
import { afterAll, expect, it } from 'vitest';
import { openAddon } from '../src/addon.js';
import { isTorchScriptError } from '../src/errors.js';
import { type NamedTorchTensor, ScriptModule, type TorchTensor } from '../src/script-module.js';
import { getIntraOpThreads, setIntraOpThreads } from '../src/threads.js';
import {
  bytesOf,
  describeWithTorch,
  EXPECTED,
  FIXTURES,
  type FixtureTensor,
} from './torch-fixtures.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-ts-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLOAT = new Set(['F16', 'BF16', 'F32', 'F64']);

function values(t: { dtype: string; data: Uint8Array }): number[] {
  const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const n = t.data.byteLength / dtypeSize(t.dtype as 'F32');
  return Array.from({ length: n }, (_, i) => {
    switch (t.dtype) {
      case 'F32':
        return b.readFloatLE(i * 4);
      case 'F64':
        return b.readDoubleLE(i * 8);
      case 'I64':
        return Number(b.readBigInt64LE(i * 8));
      case 'F16':
      case 'BF16':
        return b.readUInt16LE(i * 2);
      default:
        return b[i]!;
    }
  });
}

/** fp32/fp64 within 1e-6 (relative above 1), every other dtype byte for byte. */
function expectMatches(actual: NamedTorchTensor, expected: FixtureTensor): void {
  expect(actual.name).toBe(expected.name);
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  const want = bytesOf(expected);
  if (expected.dtype === 'F32' || expected.dtype === 'F64') {
    const a = values(actual);
    const e = values({ dtype: expected.dtype, data: want });
    expect(a).toHaveLength(e.length);
    for (const [i, v] of a.entries())
      expect(Math.abs(v - e[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(e[i]!)));
  } else {
    expect(Buffer.from(actual.data).equals(Buffer.from(want))).toBe(true);
  }
}

const inputsOf = (model: string): TorchTensor[] =>
  EXPECTED.models[model]!.inputs!.map((t) => ({
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    data: bytesOf(t),
  }));

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (error) {
    if (!isTorchScriptError(error)) throw error;
    expect(error.message).not.toContain('\n');
    return { code: error.code, message: error.message };
  }
  throw new Error('no error');
}

it('an addon that is not built or does not load is FERRY_TORCHSCRIPT_UNAVAILABLE, on one line', () => {
  const junk = join(dir, 'junk.node');
  writeFileSync(junk, 'not a shared object');
  for (const path of [join(dir, 'missing.node'), junk]) {
    try {
      openAddon(path);
      throw new Error('loaded');
    } catch (error) {
      expect(isTorchScriptError(error) && error.code).toBe('FERRY_TORCHSCRIPT_UNAVAILABLE');
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toContain(
        'install libtorch-dev (`sudo scripts/install-system-deps.sh`)',
      );
    }
  }
});

describeWithTorch('TorchScript modules through the libtorch addon', () => {
  const cases = Object.entries(EXPECTED.models).filter(([, m]) => m.inputs);

  it.each(cases)('%s: outputs equal what torch computed', async (_name, model) => {
    const module = await ScriptModule.load(FIXTURES + model.file);
    try {
      expect(module.argumentNames).toEqual(model.argument_names);
      const outputs = await module.forward(inputsOf(_name));
      expect(outputs.map((o) => o.name)).toEqual(model.outputs!.map((o) => o.name));
      for (const [i, o] of outputs.entries()) expectMatches(o, model.outputs![i]!);
    } finally {
      module.dispose();
    }
  });

  it('covers every dtype ferry carries, in and out', () => {
    const all = EXPECTED.models.all_dtypes!;
    const dtypes = new Set(all.inputs!.map((t) => t.dtype));
    expect([...dtypes].sort()).toEqual([
      'BF16',
      'BOOL',
      'F16',
      'F32',
      'F64',
      'I16',
      'I32',
      'I64',
      'I8',
      'U8',
    ]);
    expect(new Set(all.outputs!.map((t) => t.dtype))).toEqual(dtypes);
    expect(all.outputs!.some((t) => FLOAT.has(t.dtype))).toBe(true);
  });

  it('gives the same outputs for unaligned inputs (copied) as for aligned ones (zero-copy)', async () => {
    const module = await ScriptModule.load(`${FIXTURES}all_dtypes.pt`);
    try {
      const unaligned = inputsOf('all_dtypes').map((t) => {
        const buffer = Buffer.alloc(t.data.byteLength + 1);
        buffer.set(t.data, 1);
        return { ...t, data: buffer.subarray(1) };
      });
      const outputs = await module.forward(unaligned);
      for (const [i, o] of outputs.entries()) expectMatches(o, EXPECTED.models.all_dtypes!.outputs![i]!);
    } finally {
      module.dispose();
    }
  });

  it('keeps a request buffer alive when the model stores its input (stateful model)', async () => {
    const module = await ScriptModule.load(`${FIXTURES}stateful.pt`);
    try {
      const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
      const first = await module.forward([{ dtype: 'F32', shape: [4], data: f32(1, 2, 3, 4) }]);
      expect(values(first[0]!)).toEqual([0, 0, 0, 0]);
      // the first input's buffer is unreachable from JS now; its memory must still hold 1..4
      (globalThis as { gc?: () => void }).gc?.();
      for (let i = 0; i < 50; i++) new Uint8Array(4096).fill(0xff);
      const second = await module.forward([{ dtype: 'F32', shape: [4], data: f32(5, 6, 7, 8) }]);
      expect(values(second[0]!)).toEqual([1, 2, 3, 4]);
      const third = await module.forward([{ dtype: 'F32', shape: [4], data: f32(0, 0, 0, 0) }]);
      expect(values(third[0]!)).toEqual([5, 6, 7, 8]);
    } finally {
      module.dispose();
    }
  });

  it('turns a missing file, a corrupt archive and a non-TorchScript zip into one-line errors', async () => {
    expect(await failure(ScriptModule.load(join(dir, 'nope.pt')))).toEqual({
      code: 'FERRY_TORCHSCRIPT_LOAD',
      message: `${join(dir, 'nope.pt')}: cannot load the TorchScript module: no such file`,
    });
    const truncated = join(dir, 'truncated.pt');
    writeFileSync(truncated, readFileSync(`${FIXTURES}mlp_traced.pt`).subarray(0, 3000));
    expect((await failure(ScriptModule.load(truncated))).code).toBe('FERRY_TORCHSCRIPT_ARCHIVE');
    expect((await failure(ScriptModule.load(`${FIXTURES}checkpoint.pt`))).code).toBe(
      'FERRY_TORCHSCRIPT_ARCHIVE',
    );
    // the layout is right but data.pkl (a stored member) names a class outside the allowlist: the
    // pickle scanner refuses it before libtorch reads a byte
    const archive = readFileSync(`${FIXTURES}mlp_traced.pt`);
    const at = archive.indexOf('__torch__');
    expect(at).toBeGreaterThan(0);
    const broken = Buffer.from(archive);
    broken.write('__torXh__', at);
    const brokenPath = join(dir, 'broken.pt');
    writeFileSync(brokenPath, broken);
    const { code: errorCode, message } = await failure(ScriptModule.load(brokenPath));
    expect(errorCode).toBe('FERRY_TORCHSCRIPT_UNSAFE');
    expect(message.startsWith(`${brokenPath}: refused before loading: the pickle scanner found `)).toBe(true);
  });

  it('turns a wrong input shape, an exception the model raises and a missing argument into one-line errors', async () => {
    const mlp = await ScriptModule.load(`${FIXTURES}mlp_traced.pt`);
    const flow = await ScriptModule.load(`${FIXTURES}control_flow.pt`);
    try {
      const wrong = await failure(mlp.forward([{ dtype: 'F32', shape: [2, 3], data: new Uint8Array(24) }]));
      expect(wrong).toEqual({
        code: 'FERRY_TORCHSCRIPT_FORWARD',
        message: `${FIXTURES}mlp_traced.pt: forward failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 8x16)`,
      });
      const x = { dtype: 'F32' as const, shape: [2, 4], data: new Uint8Array(32) };
      const negative = {
        dtype: 'I64' as const,
        shape: [],
        data: new Uint8Array(new BigInt64Array([-1n]).buffer),
      };
      expect((await failure(flow.forward([x, negative]))).message).toBe(
        `${FIXTURES}control_flow.pt: forward failed: builtins.ValueError: steps must be non-negative`,
      );
      expect((await failure(flow.forward([x]))).message).toContain(
        "forward() is missing value for argument 'steps'",
      );
      // the modules still work after errors
      expect(await mlp.forward([{ dtype: 'F32', shape: [1, 8], data: new Uint8Array(32) }])).toHaveLength(1);
    } finally {
      mlp.dispose();
      flow.dispose();
    }
  });

  it('refuses bad inputs before libtorch sees them', async () => {
    const mlp = await ScriptModule.load(`${FIXTURES}mlp_traced.pt`);
    try {
      expect(await failure(mlp.forward([{ dtype: 'F32', shape: [2, 8], data: new Uint8Array(63) }]))).toEqual(
        {
          code: 'FERRY_TORCHSCRIPT_INPUT',
          message: 'input 0: data holds 63 bytes but F32 [2, 8] needs 64',
        },
      );
      const u16 = { dtype: 'U16' as 'U8', shape: [1], data: new Uint8Array(2), name: 'x' };
      expect((await failure(mlp.forward([u16]))).message).toContain(
        'input x: dtype U16 has no libtorch tensor type',
      );
      const bool = { dtype: 'BOOL' as const, shape: [3], data: new Uint8Array([0, 1, 7]), name: 'mask' };
      expect(await failure(mlp.forward([bool]))).toEqual({
        code: 'FERRY_TORCHSCRIPT_INPUT',
        message: 'input mask: BOOL byte 2 is 7, not 0 or 1',
      });
    } finally {
      mlp.dispose();
    }
  });

  it('runs many forwards at once off the event loop (a timer keeps firing meanwhile)', async () => {
    const flow = await ScriptModule.load(`${FIXTURES}control_flow.pt`);
    try {
      const x = new Float32Array(64 * 4).fill(0.25);
      const steps = new BigInt64Array([400n]);
      let ticks = 0;
      let ticksBeforeLast = 0;
      const timer = setInterval(() => ticks++, 1);
      const runs = Array.from({ length: 24 }, () =>
        flow.forward([
          { dtype: 'F32', shape: [64, 4], data: new Uint8Array(x.buffer) },
          { dtype: 'I64', shape: [], data: new Uint8Array(steps.buffer) },
        ]),
      );
      let pending = runs.length;
      for (const run of runs)
        void run.then(() => {
          if (--pending === 0) ticksBeforeLast = ticks;
        });
      const outputs = await Promise.all(runs);
      clearInterval(timer);
      // forward() returned before any work was done; had it blocked, no tick could happen until all were done
      expect(ticksBeforeLast).toBeGreaterThan(0);
      for (const out of outputs)
        expect(Buffer.from(out[0]!.data).equals(Buffer.from(outputs[0]![0]!.data))).toBe(true);
    } finally {
      flow.dispose();
    }
  });

  it('finishes a forward already running when the module is disposed, and refuses new ones', async () => {
    const mlp = await ScriptModule.load(`${FIXTURES}mlp_traced.pt`);
    const running = mlp.forward(inputsOf('mlp_traced'));
    mlp.dispose();
    expectMatches((await running)[0]!, EXPECTED.models.mlp_traced!.outputs![0]!);
    expect((await failure(mlp.forward(inputsOf('mlp_traced')))).message).toContain('the module was disposed');
  });

  it('sets the process-wide intra-op thread count', () => {
    const before = getIntraOpThreads();
    try {
      setIntraOpThreads(2);
      expect(getIntraOpThreads()).toBe(2);
      expect(() => setIntraOpThreads(0)).toThrow(/intra_op_threads: must be an integer from 1 to 1024/);
    } finally {
      setIntraOpThreads(before);
    }
  });
});
