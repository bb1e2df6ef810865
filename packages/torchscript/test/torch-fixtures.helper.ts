import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { loadAddon, torchscriptAvailable } from '../src/addon.js';
import type { TorchScriptDType } from '../src/dtype.js';

/** fixtures/torchscript/, made by fixtures/make/torchscript_models.py with Debian's torch 1.13. */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/torchscript/', import.meta.url));

export interface FixtureTensor {
  readonly name: string;
  readonly dtype: TorchScriptDType;
  readonly shape: number[];
  readonly data: string;
}

export interface FixtureModel {
  readonly file: string;
  readonly argument_names: string[];
  readonly inputs?: FixtureTensor[];
  readonly outputs?: FixtureTensor[];
}

export const EXPECTED = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as {
  models: Record<string, FixtureModel>;
};

export function bytesOf(tensor: FixtureTensor): Uint8Array {
  return new Uint8Array(Buffer.from(tensor.data, 'base64'));
}

/**
 * describe() where the addon is built; elsewhere the suite is skipped with the install command,
 * except under CI=true, where a missing libtorch fails (CI installs libtorch-dev).
 */
export function describeWithTorch(name: string, body: () => void): void {
  if (torchscriptAvailable()) {
    describe(name, body);
    return;
  }
  let reason = '';
  try {
    loadAddon();
  } catch (error) {
    reason = (error as Error).message;
  }
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('needs the libtorch addon (CI installs libtorch-dev)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${reason}`);
  describe.skip(name, body);
}
