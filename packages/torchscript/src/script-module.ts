import { dtypeSize } from '@ferry/formats';
import { loadAddon, type NativeScriptModule } from './addon.js';
import { isTorchScriptDType, type TorchScriptDType } from './dtype.js';
import { torchscriptError } from './errors.js';
import { scanBeforeLoad } from './scan.js';
import { torchMessageLine } from './torch-message.js';

/** A tensor for forward(): dense row-major little-endian bytes (a Node Buffer or any Uint8Array). */
export interface TorchTensor {
  readonly dtype: TorchScriptDType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
  /** Names the input in error messages; forward() passes inputs by position. */
  readonly name?: string;
}

export interface NamedTorchTensor extends TorchTensor {
  /** Dict key, or output__N for a tensor (N = 0), tuple or list result. */
  readonly name: string;
}

/** Shapes beyond this rank are refused (the addon's own bound; no model needs more). */
export const MAX_RANK = 64;

/**
 * One TorchScript module loaded by libtorch (torch::jit::load, eval mode). forward() runs on
 * libuv's thread pool under c10::InferenceMode and never blocks the event loop; several may run
 * at once. Inputs whose memory is aligned for their dtype are passed zero-copy (torch::from_blob
 * over the caller's buffer, kept alive until the forward finishes): don't write to them meanwhile,
 * and note a model that modifies its input in place writes into them.
 */
export class ScriptModule {
  private constructor(
    readonly path: string,
    private native: NativeScriptModule | undefined,
    /** forward's parameter names after self, from its TorchScript schema. */
    readonly argumentNames: readonly string[],
  ) {}

  /** Checks the archive (scanBeforeLoad), then loads it with torch::jit::load off the event loop. */
  static async load(path: string): Promise<ScriptModule> {
    const addon = loadAddon();
    await scanBeforeLoad(path);
    let native: NativeScriptModule;
    try {
      native = await addon.load(path);
    } catch (error) {
      throw torchscriptError(
        'FERRY_TORCHSCRIPT_LOAD',
        { path, reason: torchMessageLine((error as Error).message) },
        error,
      );
    }
    return new ScriptModule(path, native, native.argumentNames());
  }

  async forward(inputs: readonly TorchTensor[]): Promise<NamedTorchTensor[]> {
    const native = this.native;
    if (!native)
      throw torchscriptError('FERRY_TORCHSCRIPT_FORWARD', {
        path: this.path,
        reason: 'the module was disposed',
      });
    inputs.forEach(checkInput);
    let pending: ReturnType<NativeScriptModule['forward']>;
    try {
      pending = native.forward(inputs.map((t) => ({ dtype: t.dtype, shape: t.shape, data: t.data })));
    } catch (error) {
      // the addon's own argument check (e.g. a BOOL byte that is not 0 or 1)
      const match = /^forward: input (\d+): (.*)$/.exec((error as Error).message);
      const index = Number(match?.[1] ?? -1);
      throw torchscriptError('FERRY_TORCHSCRIPT_INPUT', {
        input: inputs[index]?.name ?? (index >= 0 ? String(index) : '(all)'),
        reason: match?.[2] ?? (error as Error).message,
      });
    }
    try {
      return (await pending) as NamedTorchTensor[];
    } catch (error) {
      throw torchscriptError(
        'FERRY_TORCHSCRIPT_FORWARD',
        { path: this.path, reason: torchMessageLine((error as Error).message) },
        error,
      );
    }
  }

  /** Drops this handle; libtorch frees the module once forwards still running have finished. */
  dispose(): void {
    this.native?.dispose();
    this.native = undefined;
  }
}

export function loadScriptModule(path: string): Promise<ScriptModule> {
  return ScriptModule.load(path);
}

function checkInput(tensor: TorchTensor, index: number): void {
  const input = tensor.name ?? String(index);
  const fail = (reason: string) => torchscriptError('FERRY_TORCHSCRIPT_INPUT', { input, reason });
  if (!isTorchScriptDType(tensor.dtype))
    throw fail(
      `dtype ${tensor.dtype} has no libtorch tensor type (BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64)`,
    );
  if (tensor.shape.length > MAX_RANK)
    throw fail(`rank ${tensor.shape.length} is over the limit of ${MAX_RANK}`);
  let count = 1;
  for (const dim of tensor.shape) {
    if (!Number.isSafeInteger(dim) || dim < 0)
      throw fail(`shape [${tensor.shape.join(', ')}] has a bad dimension`);
    count *= dim;
  }
  const expected = count * dtypeSize(tensor.dtype);
  if (!(tensor.data instanceof Uint8Array) || tensor.data.byteLength !== expected)
    throw fail(
      `data holds ${tensor.data?.byteLength ?? 0} bytes but ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${expected}`,
    );
}
