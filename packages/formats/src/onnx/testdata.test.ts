import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Probe } from '../model.js';
import { checkModel } from './check.js';
import { decodeModel, encodeModel } from './codec.js';
import { looksLikeOnnx } from './detect.js';
import { onnxHandler } from './handler.js';

/** Debian's libonnx-testdata (onnx's backend test models); also where python3-onnx may keep them. */
const ROOTS = ['/usr/share/libonnx-testdata/data', '/usr/lib/python3/dist-packages/onnx/backend/test/data'];

function findModels(dir: string, out: string[] = []): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findModels(path, out);
    else if (entry.name.endsWith('.onnx')) out.push(path);
  }
  return out;
}

/** Structural equality where NaN equals NaN and bytes compare by content. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
      Buffer.from(b.buffer, b.byteOffset, b.length),
    );
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const key of ka) {
    if (!sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

// The python3-onnx path may be a symlink to the Debian one: count each file once.
const models = [...new Set(ROOTS.flatMap((root) => findModels(root)).map((p) => realpathSync(p)))].sort();

describe.skipIf(models.length === 0)('every model in libonnx-testdata', () => {
  it('decodes, re-encodes and decodes again to an equal model; is detected; passes the check', async () => {
    let byteIdentical = 0;
    let initializers = 0;
    const failures: string[] = [];
    const checkFailures: string[] = [];
    for (const path of models) {
      const bytes = readFileSync(path);
      const probe: Probe = {
        path,
        isDirectory: false,
        size: bytes.length,
        head: bytes.subarray(0, 4096),
        entries: [],
        source: null,
      };
      if (!looksLikeOnnx(probe)) failures.push(`${path}: not detected`);
      const first = decodeModel(bytes, path);
      const encoded = encodeModel(first);
      const second = decodeModel(encoded, path);
      if (!sameValue(first, second)) failures.push(`${path}: re-decoded model differs`);
      if (Buffer.from(encoded).equals(bytes)) byteIdentical++;
      const problems = checkModel(first);
      const opened = await onnxHandler.open(path, {});
      initializers += opened.tensors.length + (opened.opaque?.length ?? 0);
      if (problems.length > 0)
        checkFailures.push(`${path}: ${problems.map((p) => `${p.rule} ${p.message}`).join('; ')}`);
    }
    console.log(
      `libonnx-testdata: walked ${models.length} models, ${byteIdentical} re-encode byte-identical, ${initializers} initializers opened, ${checkFailures.length} with check problems`,
    );
    expect(failures).toEqual([]);
    expect(checkFailures).toEqual([]);
    expect(models.length).toBeGreaterThan(1000);
    expect(byteIdentical).toBe(models.length);
  });
});
