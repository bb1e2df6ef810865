import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../src/archive/read-bundle.js';
import { isBundleError } from '../src/errors.js';
import { parseBundleSpec } from '../src/manifest/load.js';
import { decodeManifest } from '../src/pack/bundle-manifest.js';
import { packBundle } from '../src/pack/pack.js';
import { FIXTURE_PROJECT } from './test-project.helper.js';
import { generateKeyFiles } from '../src/sign/keys.js';
import { signBundle } from '../src/sign/sign.js';
import { verifyBundle } from '../src/sign/verify.js';
import { unpackBundle } from '../src/unpack/unpack.js';

let dir: string;
let bundle: Buffer;
let signature: Buffer;
let publicKey: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-bundle-fuzz-'));
  const path = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 'base.ferry') })).path;
  const keys = await generateKeyFiles(join(dir, 'k'));
  publicKey = keys.publicKey;
  await signBundle(path, keys.privateKey);
  bundle = await readFile(path);
  signature = await readFile(`${path}.sig`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bit flips, truncations and splices of real bytes. */
const mutation = (length: number) =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip'), at: fc.nat(length - 1), value: fc.nat(7) }),
    fc.record({ kind: fc.constant('cut'), at: fc.nat(length - 1), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('splice'), at: fc.nat(length - 1), value: fc.nat(255) }),
  );

function mutate(base: Buffer, m: { kind: string; at: number; value: number }): Buffer {
  if (m.kind === 'flip') {
    const copy = Buffer.from(base);
    copy[m.at]! ^= 1 << m.value;
    return copy;
  }
  if (m.kind === 'cut') return base.subarray(0, m.at);
  return Buffer.concat([
    base.subarray(0, m.at),
    Buffer.from([m.value, m.value ^ 0x5a, 0x3a, 0x0a]),
    base.subarray(m.at),
  ]);
}

async function onlyBundleErrors(run: () => Promise<unknown> | unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!isBundleError(error)) throw error;
  }
}

describe('fuzz: only BundleError comes out', () => {
  it('ferry.yaml mutations', async () => {
    const text = await readFile(join(FIXTURE_PROJECT, 'ferry.yaml'));
    await fc.assert(
      fc.asyncProperty(mutation(text.length), async (m) => {
        await onlyBundleErrors(() => parseBundleSpec(mutate(text, m).toString('utf8')));
      }),
      { numRuns: 400 },
    );
  });

  it('manifest mutations', async () => {
    const entries = (await openBundle(join(dir, 'base.ferry'))).manifestEntry;
    const manifest = bundle.subarray(entries.dataOffset, entries.dataOffset + entries.size);
    await fc.assert(
      fc.asyncProperty(mutation(manifest.length), async (m) => {
        await onlyBundleErrors(() => decodeManifest(mutate(manifest, m), 'm'));
      }),
      { numRuns: 400 },
    );
  });

  it('bundle and signature mutations through verify and unpack', async () => {
    const path = join(dir, 'fuzz.ferry');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        mutation(bundle.length),
        mutation(signature.length),
        async (which, mb, ms) => {
          await writeFile(path, which ? mutate(bundle, mb) : bundle);
          await writeFile(`${path}.sig`, which ? signature : mutate(signature, ms));
          let verified = false;
          await onlyBundleErrors(async () => {
            await verifyBundle(path, publicKey);
            verified = true;
          });
          // A mutation that still verifies must have left every signed byte as it was.
          if (verified && which) {
            const unpacked = await unpackBundle(path, join(dir, `out-${run++}`));
            expect(unpacked.files).toBe(6);
          }
          await onlyBundleErrors(() => unpackBundle(path, join(dir, `u-${run++}`)));
        },
      ),
      { numRuns: 150 },
    );
  });
});
