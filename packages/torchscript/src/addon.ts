import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { torchscriptError } from './errors.js';

/** A tensor crossing the addon boundary: dense row-major little-endian bytes. */
export interface NativeTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export interface NativeOutput extends NativeTensor {
  /** Dict key, or output__N for a tensor, tuple or list result (Triton's pytorch backend names). */
  readonly name: string;
}

/** A module loaded by native/load-worker.cc; see native/script-module.h. */
export interface NativeScriptModule {
  forward(inputs: readonly NativeTensor[]): Promise<NativeOutput[]>;
  argumentNames(): string[];
  dispose(): void;
}

export interface NativeAddon {
  load(path: string): Promise<NativeScriptModule>;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  readonly torchVersion: string;
}

/** Where scripts/build-addon.mjs (node-gyp) puts the addon; the same from src/ and dist/. */
export const ADDON_PATH = fileURLToPath(new URL('../build/Release/ferry_torchscript.node', import.meta.url));

let cached: NativeAddon | Error | undefined;

/**
 * The addon, loaded on first use so that ferry runs without libtorch; throws
 * FERRY_TORCHSCRIPT_UNAVAILABLE (one line) where it is not built or libtorch cannot be loaded.
 */
export function loadAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      cached = openAddon(ADDON_PATH);
    } catch (error) {
      cached = error as Error;
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}

/** Loads the addon at `path` (uncached); FERRY_TORCHSCRIPT_UNAVAILABLE when missing or unloadable. */
export function openAddon(path: string): NativeAddon {
  if (!existsSync(path))
    throw torchscriptError('FERRY_TORCHSCRIPT_UNAVAILABLE', {
      reason: `the native addon is not built: no ${path}`,
    });
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    // e.g. libtorch.so.1.13 removed after the build: dlopen's message names the missing library
    throw torchscriptError('FERRY_TORCHSCRIPT_UNAVAILABLE', {
      reason: `the native addon does not load: ${(error as Error).message.split('\n')[0]}`,
    });
  }
}

/** True where the addon is built and loads (libtorch present). */
export function torchscriptAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}
