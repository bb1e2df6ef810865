import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle } from '../../src/pack/pack.js';
import { FIXTURE_PROJECT } from '../test-project.helper.js';
import { readTarIndex } from '../../src/tar/reader.js';
import { TarWriter } from '../../src/tar/writer.js';
import { generateKeyFiles } from '../../src/sign/keys.js';
import { signBundle } from '../../src/sign/sign.js';
import { rootDigest } from '../../src/sign/statement.js';
import { verifyBundle } from '../../src/sign/verify.js';

let dir: string;
let bundle: string;
let keys: { privateKey: string; publicKey: string };
let other: { privateKey: string; publicKey: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-sign-'));
  bundle = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 'sentiment.ferry') })).path;
  keys = await generateKeyFiles(join(dir, 'ferry'));
  other = await generateKeyFiles(join(dir, 'other'));
  await signBundle(bundle, keys.privateKey);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the signed bundle (and its signature) to tamper with. */
async function copyBundle(name: string): Promise<{ path: string; sig: string; bytes: Buffer }> {
  const path = join(dir, `${name}.ferry`);
  const bytes = await readFile(bundle);
  await writeFile(path, bytes);
  await writeFile(`${path}.sig`, await readFile(`${bundle}.sig`));
  return { path, sig: `${path}.sig`, bytes };
}

/** Rewrites the archive (a valid tar again) from its entries after `edit`. */
async function rewrite(path: string, edit: (files: { path: string; data: Buffer }[]) => void): Promise<void> {
  const bytes = await readFile(path);
  const files = (await readTarIndex(path)).map((e) => ({
    path: e.path,
    data: bytes.subarray(e.dataOffset, e.dataOffset + e.size),
  }));
  edit(files);
  const file = await open(path, 'w');
  const tar = new TarWriter(file);
  for (const f of files) await tar.addBytes(f.path, false, f.data);
  await tar.finish();
  await file.close();
}

async function entryOffset(path: string, name: string): Promise<number> {
  return (await readTarIndex(path)).find((e) => e.path === name)!.dataOffset;
}

describe('ferry keygen', () => {
  it('writes an Ed25519 PEM pair, the private key readable by its owner only, and never overwrites', async () => {
    expect((await stat(keys.privateKey)).mode & 0o777).toBe(0o600);
    expect(await readFile(keys.privateKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await readFile(keys.publicKey, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    await expect(generateKeyFiles(join(dir, 'ferry'))).rejects.toMatchObject({ code: 'FERRY_BUNDLE_OUTPUT' });
  });
});

describe('ferry sign / verify', () => {
  it('signs every entry in the OpenSSF model-signing v1.0 shape and verifies', async () => {
    const sig = JSON.parse(await readFile(`${bundle}.sig`, 'utf8'));
    expect(sig.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(sig.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(sig.dsseEnvelope.payload, 'base64').toString());
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://model_signing/signature/v1.0');
    expect(statement.predicate.serialization).toEqual({
      method: 'files',
      hash_type: 'sha256',
      allow_symlinks: false,
      ignore_paths: [],
    });
    const names = statement.predicate.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual((await readTarIndex(bundle)).map((e) => e.path).sort());
    expect(names).toContain('.ferry/manifest.json');
    expect(statement.subject).toEqual([
      { name: 'sentiment', digest: { sha256: rootDigest(statement.predicate.resources) } },
    ]);
    const result = await verifyBundle(bundle, keys.publicKey);
    expect(result).toMatchObject({
      name: 'sentiment',
      version: '1.0.0',
      files: 6,
      digest: statement.subject[0].digest.sha256,
    });
  });

  it('names a model file whose bytes changed', async () => {
    const copy = await copyBundle('model-byte');
    const at = await entryOffset(copy.path, 'model/classifier.onnx');
    copy.bytes[at + 100]! ^= 0x01;
    await writeFile(copy.path, copy.bytes);
    await expect(verifyBundle(copy.path, keys.publicKey)).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_TAMPERED',
      message: expect.stringMatching(
        /verification failed: model\/classifier\.onnx changed \(sha256 [0-9a-f]{12}\.\.\. signed, [0-9a-f]{12}\.\.\. now\)$/,
      ),
    });
  });

  it('refuses bytes appended after the end of the archive, but accepts zero padding', async () => {
    const appended = await copyBundle('appended');
    await writeFile(appended.path, Buffer.concat([appended.bytes, Buffer.from('#!/bin/sh\n')]));
    await expect(verifyBundle(appended.path, keys.publicKey)).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_TAR',
      message: expect.stringMatching(/only zero bytes may follow the end-of-archive block/),
    });
    const padded = await copyBundle('padded');
    await writeFile(padded.path, Buffer.concat([padded.bytes, Buffer.alloc(8192)]));
    await expect(verifyBundle(padded.path, keys.publicKey)).resolves.toBeDefined();
  });

  it('names the handler and the manifest when both were changed to agree', async () => {
    const copy = await copyBundle('handler-and-manifest');
    await rewrite(copy.path, (files) => {
      const handler = files.find((f) => f.path === 'handler.mjs')!;
      handler.data = Buffer.concat([handler.data, Buffer.from('\nprocess.exit(1);\n')]);
      const manifest = files.find((f) => f.path === '.ferry/manifest.json')!;
      const doc = JSON.parse(manifest.data.toString());
      const record = doc.files.find((f: { path: string }) => f.path === 'handler.mjs');
      record.size = handler.data.length;
      manifest.data = Buffer.from(JSON.stringify(doc));
    });
    await expect(verifyBundle(copy.path, keys.publicKey)).rejects.toThrow(
      /verification failed: handler\.mjs changed .*; \.ferry\/manifest\.json changed /,
    );
  });

  it('names the manifest when only the manifest changed', async () => {
    const copy = await copyBundle('manifest');
    const at = await entryOffset(copy.path, '.ferry/manifest.json');
    const text = copy.bytes.subarray(at, at + 200).toString('latin1');
    const i = text.indexOf('"sentiment"') + 1;
    copy.bytes[at + i] = 'S'.charCodeAt(0);
    await writeFile(copy.path, copy.bytes);
    await expect(verifyBundle(copy.path, keys.publicKey)).rejects.toThrow(
      /verification failed: \.ferry\/manifest\.json changed/,
    );
  });

  it('names files added or removed', async () => {
    const added = await copyBundle('added');
    await rewrite(added.path, (files) =>
      files.splice(0, 0, { path: 'backdoor.mjs', data: Buffer.from('x') }),
    );
    await expect(verifyBundle(added.path, keys.publicKey)).rejects.toThrow(
      /verification failed: backdoor\.mjs was added$/,
    );
    const removed = await copyBundle('removed');
    await rewrite(removed.path, (files) =>
      files.splice(
        files.findIndex((f) => f.path === 'vocab.txt'),
        1,
      ),
    );
    await expect(verifyBundle(removed.path, keys.publicKey)).rejects.toThrow(
      /verification failed: vocab\.txt was removed$/,
    );
  });

  it('refuses a changed signature, a changed statement, and another key', async () => {
    const sigChanged = await copyBundle('sig');
    const doc = JSON.parse(await readFile(sigChanged.sig, 'utf8'));
    const raw = Buffer.from(doc.dsseEnvelope.signatures[0].sig, 'base64');
    raw[5]! ^= 0x80;
    doc.dsseEnvelope.signatures[0].sig = raw.toString('base64');
    await writeFile(sigChanged.sig, JSON.stringify(doc));
    await expect(verifyBundle(sigChanged.path, keys.publicKey)).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_SIGNATURE',
      message: expect.stringMatching(/the Ed25519 signature does not verify/),
    });

    const statementChanged = await copyBundle('statement');
    const doc2 = JSON.parse(await readFile(statementChanged.sig, 'utf8'));
    const statement = JSON.parse(Buffer.from(doc2.dsseEnvelope.payload, 'base64').toString());
    statement.predicate.resources[0].digest = '0'.repeat(64);
    doc2.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await writeFile(statementChanged.sig, JSON.stringify(doc2));
    await expect(verifyBundle(statementChanged.path, keys.publicKey)).rejects.toThrow(
      /signature does not verify/,
    );

    const typeChanged = await copyBundle('type');
    const doc3 = JSON.parse(await readFile(typeChanged.sig, 'utf8'));
    doc3.dsseEnvelope.payloadType = 'text/plain';
    await writeFile(typeChanged.sig, JSON.stringify(doc3));
    await expect(verifyBundle(typeChanged.path, keys.publicKey)).rejects.toThrow(
      /payloadType is "text\/plain"/,
    );

    await expect(verifyBundle(bundle, other.publicKey)).rejects.toThrow(/was made with another key/);

    // An attacker who re-signs a changed bundle with their own key (and their key's hint) still fails.
    const resigned = await copyBundle('resigned');
    await rewrite(resigned.path, (files) => files.find((f) => f.path === 'vocab.txt')!.data.fill(0x61));
    await expect(signBundle(resigned.path, other.privateKey)).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_DIGEST',
    });
    await expect(verifyBundle(resigned.path, keys.publicKey)).rejects.toThrow(/vocab\.txt changed/);
  });

  it('refuses a missing signature and keys of the wrong kind', async () => {
    const copy = await copyBundle('nosig');
    await rm(copy.sig);
    await expect(verifyBundle(copy.path, keys.publicKey)).rejects.toThrow(/no signature file/);
    await expect(verifyBundle(bundle, keys.privateKey)).rejects.toThrow(
      /is a private key; verify takes the public key/,
    );
    await expect(signBundle(bundle, keys.publicKey, join(dir, 'x.sig'))).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_KEY',
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(join(dir, 'rsa.key'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(signBundle(bundle, join(dir, 'rsa.key'), join(dir, 'x.sig'))).rejects.toThrow(
      /is a rsa key; ferry signs with Ed25519/,
    );
  });
});
