import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Digest } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, readEntry } from '../../src/archive/read-bundle.js';
import { MAX_MANIFEST_BYTES } from '../../src/limits.js';
import { MANIFEST_PATH } from '../../src/pack/bundle-manifest.js';
import { packBundle } from '../../src/pack/pack.js';
import { FIXTURE_PROJECT } from '../test-project.helper.js';
import {
  buildArtifact,
  buildSignatureArtifact,
  FILEPATH_ANNOTATION,
  MODELPACK_ARTIFACT_TYPE,
} from '../../src/oci/modelpack.js';

let dir: string;
let bundle: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-modelpack-'));
  bundle = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 's.ferry') })).path;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ModelPack artifact of a bundle', () => {
  it('has one raw layer per file (digest = the file sha256), the bundle manifest last, and no timestamps', async () => {
    const opened = await openBundle(bundle);
    const manifestBytes = (await readEntry(opened, MANIFEST_PATH, MAX_MANIFEST_BYTES))!;
    const built = buildArtifact(opened.manifest, manifestBytes);
    expect(buildArtifact(opened.manifest, manifestBytes).manifest).toEqual(built.manifest);
    const doc = JSON.parse(Buffer.from(built.manifest).toString('utf8'));
    expect(doc.artifactType).toBe(MODELPACK_ARTIFACT_TYPE);
    expect(doc.config).toEqual({
      mediaType: 'application/vnd.cncf.model.config.v1+json',
      digest: sha256Digest(built.config),
      size: built.config.byteLength,
    });
    const byPath = Object.fromEntries(
      doc.layers.map((l: { annotations: Record<string, string>; mediaType: string }) => [
        l.annotations[FILEPATH_ANNOTATION],
        l.mediaType,
      ]),
    );
    expect(byPath).toEqual({
      'README.md': 'application/vnd.cncf.model.doc.v1.raw',
      'ferry.yaml': 'application/vnd.cncf.model.code.v1.raw',
      'handler.mjs': 'application/vnd.cncf.model.code.v1.raw',
      'model/classifier.onnx': 'application/vnd.cncf.model.weight.v1.raw',
      'vocab.txt': 'application/vnd.cncf.model.weight.config.v1.raw',
      '.ferry/manifest.json': 'application/vnd.ferry.bundle.manifest.v1+json',
    });
    const onnx = opened.manifest.files.find((f) => f.path === 'model/classifier.onnx')!;
    expect(doc.layers[3].digest).toBe(`sha256:${onnx.sha256}`);
    expect(doc.layers.at(-1).digest).toBe(sha256Digest(manifestBytes));
    const config = JSON.parse(Buffer.from(built.config).toString('utf8'));
    expect(config).toEqual({
      descriptor: { name: 'sentiment', version: '1.0.0' },
      config: { format: 'onnx' },
      modelfs: { type: 'layers', diff_ids: doc.layers.map((l: { digest: string }) => l.digest) },
    });
    expect(JSON.stringify(doc)).not.toMatch(/created/i);
  });

  it('makes the signature a referrer: empty config, the signature as its layer, subject = the manifest', async () => {
    const signature = await readFile(join(FIXTURE_PROJECT, 'README.md'));
    const subject = { digest: `sha256:${'c'.repeat(64)}`, size: 1234 };
    const doc = JSON.parse(Buffer.from(buildSignatureArtifact(signature, subject)).toString('utf8'));
    expect(doc.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(doc.config).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
    });
    expect(doc.layers[0].digest).toBe(sha256Digest(signature));
    expect(doc.subject).toEqual({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...subject });
  });
});
