import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Probe } from '../../src/model.js';
import { looksLikeOnnx } from '../../src/onnx/detect.js';

const probeOf = (path: string, bytes: Uint8Array): Probe => ({
  path,
  isDirectory: false,
  size: bytes.length,
  head: bytes.subarray(0, 4096),
  entries: [],
  source: null,
});

/** Every file under a folder, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The shared, read-only fixtures beside the repository (../shared/fixtures). */
const SHARED = new URL('../../../../../shared/fixtures', import.meta.url).pathname;

describe('ONNX detection', () => {
  it('recognises the fixtures by their bytes, whatever their name', () => {
    const bytes = readFileSync(new URL('../../../../fixtures/onnx/cnn.onnx', import.meta.url));
    expect(looksLikeOnnx(probeOf('weights.bin', bytes))).toBe(true);
  });

  it('does not claim other protobuf files (TensorFlow SavedModels), pickles or the external data file', () => {
    const others = [
      ...(existsSync(SHARED) ? files(SHARED) : []).filter((f) => !f.endsWith('.md')),
      new URL('../../../../fixtures/onnx/cnn_external.onnx.data', import.meta.url).pathname,
    ];
    let looked = 0;
    for (const path of others) {
      looked++;
      expect(looksLikeOnnx(probeOf(path, readFileSync(path))), path).toBe(false);
    }
    expect(looked).toBeGreaterThan(existsSync(SHARED) ? 10 : 0);
  });

  it('refuses an implausible ir_version, a wrong wire type, a length past the end and a folder', () => {
    expect(looksLikeOnnx(probeOf('a', Uint8Array.from([0x08, 0x7f, 0x3a, 0x00])))).toBe(false);
    expect(looksLikeOnnx(probeOf('a', Uint8Array.from([0x08, 0x08, 0x3a, 0x00])))).toBe(true);
    expect(looksLikeOnnx(probeOf('a', Uint8Array.from([0x0a, 0x08, 0x3a, 0x00])))).toBe(false);
    expect(looksLikeOnnx(probeOf('a', Uint8Array.from([0x08, 0x08, 0x3a, 0x10])))).toBe(false);
    expect(looksLikeOnnx({ ...probeOf('d', new Uint8Array(0)), isDirectory: true })).toBe(false);
  });
});
