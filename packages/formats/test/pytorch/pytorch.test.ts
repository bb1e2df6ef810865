import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import type { FerryError } from '../../src/errors.js';
import { openModel } from '../../src/open.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;
const CORPUS = new URL('../../../../fixtures/pickle/corpus/', import.meta.url).pathname;
const SHARED = '/work/shared/fixtures/pickles/';
const expected = JSON.parse(readFileSync(`${TORCH}expected.json`, 'utf8')) as {
  files: Record<string, Record<string, { dtype: string; shape: number[]; sha256: string }>>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
// Uint8Array.from copies: a Buffer's .buffer is Node's shared pool.
const f32 = (b: Uint8Array) => Array.from(new Float32Array(Uint8Array.from(b).buffer));

describe('torch files: every tensor equals what torch saved', () => {
  it.each(Object.keys(expected.files))('%s', async (file) => {
    const model = await openModel(TORCH + file);
    try {
      const want = expected.files[file]!;
      const byName = new Map(model.tensors.map((t) => [t.name, t]));
      for (const [name, spec] of Object.entries(want)) {
        const ref = byName.get(name);
        expect(ref, `${file}: ${name}`).toBeDefined();
        expect(ref!.dtype).toBe(spec.dtype);
        expect(ref!.shape).toEqual(spec.shape);
        expect(sha(await readTensorBytes(ref!)), `${file}: ${name}`).toBe(spec.sha256);
      }
    } finally {
      await model.close();
    }
  });
});

describe('torch files: structure', () => {
  it('detects each format by its bytes', async () => {
    expect(await detectFormat(`${TORCH}state_dict.pt`)).toBe('pytorch');
    expect(await detectFormat(`${TORCH}renamed-root.bin`)).toBe('pytorch');
    expect(await detectFormat(`${TORCH}state_dict_legacy.pt`)).toBe('pytorch-legacy');
    expect(await detectFormat(`${TORCH}scripted.pt`)).toBe('torchscript');
    expect(await detectFormat(`${TORCH}traced.pt`)).toBe('torchscript');
  });

  it.each(['state_dict.pt', 'state_dict_legacy.pt'])(
    '%s: tied weights share one storage range',
    async (file) => {
      const model = await openModel(TORCH + file);
      try {
        const a = model.tensors.find((t) => t.name === 'embed.weight')!;
        const b = model.tensors.find((t) => t.name === 'out.weight')!;
        expect(b.source).toBe(a.source);
        expect([b.offset, b.byteLength]).toEqual([a.offset, a.byteLength]);
        expect(model.details?.tied).toEqual({ 'out.weight': 'embed.weight' });
      } finally {
        await model.close();
      }
    },
  );

  it('views keep their strides and storage offset', async () => {
    const model = await openModel(`${TORCH}views.pt`);
    try {
      const t = (n: string) => model.tensors.find((x) => x.name === n)!;
      expect(t('transposed').strides).toEqual([1, 6]);
      expect(t('full').strides).toBeUndefined();
      expect(t('rows').offset - t('full').offset).toBe(6 * 4);
      expect(t('expanded').strides).toEqual([1, 0]);
      expect(f32(await readTensorBytes(t('column')))).toEqual([2, 8, 14, 20]);
    } finally {
      await model.close();
    }
  });

  it('sparse, meta and quantized tensors are reported as opaque with their shapes', async () => {
    const model = await openModel(`${TORCH}special.pt`);
    try {
      expect(model.opaque?.map((t) => [t.name, t.shape])).toEqual([
        ['sparse', [3, 3]],
        ['meta', [4, 5]],
        ['q', [3]],
      ]);
    } finally {
      await model.close();
    }
  });

  it('big-endian byteorder record', async () => {
    const model = await openModel(`${TORCH}dtypes_bigendian.pt`);
    try {
      expect(model.details?.byteorder).toBe('big');
      expect(model.tensors.every((t) => t.byteOrder === 'big')).toBe(true);
    } finally {
      await model.close();
    }
  });

  it('Lightning checkpoint: dotted names and non-tensor leaves', async () => {
    const model = await openModel(`${TORCH}lightning.ckpt`);
    try {
      const names = model.tensors.map((t) => t.name);
      expect(names).toContain('state_dict.fc.weight');
      expect(names).toContain('optimizer_states.0.state.0.exp_avg');
      expect(model.details?.values).toMatchObject({
        epoch: 3,
        global_step: 42,
        'hyper_parameters.name': 'net',
      });
    } finally {
      await model.close();
    }
  });

  it('TorchScript: code, extra files, constants', async () => {
    const scripted = await openModel(`${TORCH}scripted.pt`);
    const traced = await openModel(`${TORCH}traced.pt`);
    try {
      expect(scripted.details?.code).toContain('code/__torch__.py');
      expect(scripted.metadata['meta.json']).toBe('{"task": "demo"}');
      const c0 = traced.tensors.find((t) => t.name === 'CONSTANTS.c0')!;
      expect(f32(await readTensorBytes(c0))).toEqual([1, -1]);
      expect(traced.details?.tied).toBeUndefined();
    } finally {
      await scripted.close();
      await traced.close();
    }
  });

  it.skipIf(!existsSync(SHARED))("picklescan's real checkpoints load", async () => {
    const legacy = await openModel(`${SHARED}pytorch_model.bin`);
    const zip = await openModel(`${SHARED}new_pytorch_model.bin`);
    try {
      expect(legacy.format).toBe('pytorch-legacy');
      expect(legacy.tensors.length).toBeGreaterThan(30);
      for (const t of legacy.tensors) expect((await readTensorBytes(t)).length).toBe(t.byteLength);
      expect(zip.format).toBe('pytorch');
      expect(zip.tensors[0]).toMatchObject({ dtype: 'F32', shape: [3, 4] });
    } finally {
      await legacy.close();
      await zip.close();
    }
  });

  it('refuses a hostile checkpoint unless unsafeInspect, and runs nothing either way', async () => {
    await expect(openModel(`${CORPUS}zip_torch_hostile.pt`)).rejects.toMatchObject({
      code: 'FERRY_PICKLE_REFUSED',
    });
    const error = await openModel(`${CORPUS}zip_torch_hostile.pt`).catch((e: FerryError) => e);
    expect((error as FerryError).message).toContain('os.system');
    const model = await openModel(`${CORPUS}zip_torch_hostile.pt`, { unsafeInspect: true });
    try {
      expect(model.findings?.[0]).toMatchObject({ severity: 'critical', rule: 'dangerous-call' });
      expect(model.details?.objects).toEqual(['(root): os.system']);
      expect(model.details?.graph).toEqual(['os.system("id")']);
    } finally {
      await model.close();
    }
  });
});
