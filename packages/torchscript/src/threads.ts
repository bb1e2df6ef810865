import { loadAddon } from './addon.js';
import { torchscriptError } from './errors.js';

/**
 * Sets libtorch's intra-op thread count (at::set_num_threads). This is PROCESS-WIDE: every
 * TorchScript model in this process shares it, and the last call wins. Each forward applies it
 * on its libuv pool thread (OpenMP keeps the count per thread), so it takes effect from the next
 * forward. Up to UV_THREADPOOL_SIZE forwards run at once, each with this many threads.
 */
export function setIntraOpThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw torchscriptError('FERRY_TORCHSCRIPT_CONFIG', {
      path: '(threads)',
      field: 'intra_op_threads',
      reason: `must be an integer from 1 to 1024 (got ${n})`,
    });
  loadAddon().setNumThreads(n);
}

export function getIntraOpThreads(): number {
  return loadAddon().getNumThreads();
}

/** libtorch's version as the addon was compiled against it (e.g. 1.13.0). */
export function torchVersion(): string {
  return loadAddon().torchVersion;
}
