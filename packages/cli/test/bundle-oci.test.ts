import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateKeyFiles,
  packBundle,
  prepareBundleServe,
  pushBundle,
  readTarIndex,
  signBundle,
} from '@ferry/bundle';
import { OCI_MANIFEST, OciClient } from '@ferry/registry-client';
import { type RunningServer, startServer } from '@ferry/serve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasDockerRegistry,
  type RunningOciRegistry,
  startOciRegistry,
} from '../../../scripts/test/backends.js';
import { runCli } from './test-io.helper.js';

const PROJECT = fileURLToPath(new URL('../../../fixtures/bundle/', import.meta.url));
const EXPECTED = JSON.parse(await readFile(join(PROJECT, 'expected.json'), 'utf8')) as {
  labels: string[];
  samples: { text: string; logits: number[]; label: string }[];
};

const present = hasDockerRegistry();
let registry: RunningOciRegistry;
let dir: string;
let bundle: string;
let keys: { privateKey: string; publicKey: string };
let oci: (repoTag: string) => string;

beforeAll(async () => {
  if (!present) return;
  registry = await startOciRegistry();
  oci = (repoTag) => `oci://${registry.hostPort}/${repoTag}`;
  dir = await mkdtemp(join(tmpdir(), 'ferry-bundle-oci-'));
  bundle = (await packBundle(PROJECT, { output: join(dir, 'sentiment-1.0.0.ferry') })).path;
  keys = await generateKeyFiles(join(dir, 'release'));
  await signBundle(bundle, keys.privateKey);
});
afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A copy of the fixture project with `change` applied, packed into DIR/NAME. */
async function variant(name: string, change: (project: string) => Promise<void>): Promise<string> {
  const project = join(dir, `project-${name}`);
  await cp(PROJECT, project, { recursive: true });
  await change(project);
  return (await packBundle(project, { output: join(dir, `${name}.ferry`) })).path;
}

/** Serves a prepared bundle on free ports; the caller closes it. */
async function serve(prepared: Awaited<ReturnType<typeof prepareBundleServe>>): Promise<RunningServer> {
  return startServer({
    path: prepared.repository,
    handlers: prepared.handlers,
    httpPort: 0,
    grpcPort: null,
    logLevel: 'silent',
  });
}

/** Runs `body` with TMPDIR pointing at a fresh folder; returns what is left in it afterwards. */
async function inOwnTmp(body: () => Promise<void>): Promise<string[]> {
  const own = await mkdtemp(join(dir, 'tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return readdir(own);
}

describe.skipIf(!present)('bundle -> docker-registry -> pull -> verify -> serve', () => {
  it('serves the expected answers end to end (pack, sign, push, pull, verify, serve, request)', async () => {
    const push = await runCli(['push', bundle, oci('ml/sentiment:1.0.0')]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(
      /^pushed .*sentiment-1\.0\.0\.ferry -> oci:\/\/127\.0\.0\.1:\d+\/ml\/sentiment@sha256:[0-9a-f]{64} \(tag 1\.0\.0\)\n {2}6 layers, .*: 6 uploaded, 0 already there\n {2}signature .*\.sig -> referrer sha256:[0-9a-f]{64}\n$/,
    );
    // the same bundle again: every blob is already there (HEAD), nothing is uploaded
    const again = await runCli(['push', bundle, oci('ml/sentiment:1.0.0'), '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ uploaded: 0, skipped: 6, layers: 6 });

    const out = join(dir, 'pulled');
    const pull = await runCli(['pull', oci('ml/sentiment:1.0.0'), '-o', out]);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    // rebuilt byte for byte: the same archive that was packed
    const pulled = join(out, 'sentiment-1.0.0.ferry');
    expect(sha256(await readFile(pulled))).toBe(sha256(await readFile(bundle)));
    const verify = await runCli(['verify', pulled, '--pub', keys.publicKey]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);

    // pulled again into the same folder: the same bytes are kept; a changed file is never overwritten
    // without --force, and nothing is written (no .pulling left behind either)
    const same = await runCli(['pull', oci('ml/sentiment:1.0.0'), '-o', out]);
    expect(same.code).toBe(0);
    await writeFile(`${pulled}.sig`, 'mine');
    const refused = await runCli(['pull', oci('ml/sentiment:1.0.0'), '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `ferry pull: FERRY_BUNDLE_OUTPUT: ${pulled}.sig: exists and differs from what was pulled: nothing was written; pass --force to overwrite it\n`,
    );
    expect(await readFile(`${pulled}.sig`, 'utf8')).toBe('mine');
    expect((await readdir(out)).sort()).toEqual(['sentiment-1.0.0.ferry', 'sentiment-1.0.0.ferry.sig']);
    expect((await runCli(['pull', oci('ml/sentiment:1.0.0'), '-o', out, '--force'])).code).toBe(0);
    expect((await runCli(['verify', pulled, '--pub', keys.publicKey])).code).toBe(0);

    const prepared = await prepareBundleServe(oci('ml/sentiment:1.0.0'), {
      publicKey: keys.publicKey,
      requireSignature: true,
    });
    expect(prepared.verified?.name).toBe('sentiment');
    const server = await serve(prepared);
    try {
      const base = `http://127.0.0.1:${server.httpPort}`;
      const texts = EXPECTED.samples.map((s) => s.text);
      const response = await fetch(`${base}/v2/models/classifier/handler`, {
        method: 'POST',
        body: JSON.stringify({ text: texts }),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { predictions: { label: string; scores: number[] }[] };
      expect(answer.predictions.map((p) => p.label)).toEqual(EXPECTED.samples.map((s) => s.label));
      for (const [i, sample] of EXPECTED.samples.entries())
        for (const [j, logit] of sample.logits.entries())
          expect(answer.predictions[i]!.scores[j]).toBeCloseTo(logit, 5);
      // one text, and the plain v2 protocol beside the handler route
      const one = await fetch(`${base}/v2/models/classifier/handler`, {
        method: 'POST',
        body: JSON.stringify({ text: EXPECTED.samples[0]!.text }),
      });
      expect(((await one.json()) as { predictions: { label: string }[] }).predictions[0]!.label).toBe(
        EXPECTED.samples[0]!.label,
      );
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/model="classifier"/);
      // a handler error is a 500 with the handler's message; the server keeps serving
      const bad = await fetch(`${base}/v2/models/classifier/handler`, {
        method: 'POST',
        body: '{"text": 5}',
      });
      expect(bad.status).toBe(500);
      expect(((await bad.json()) as { error: string }).error).toMatch(
        /^handler handler\.mjs: the request must be \{"text": string\}/,
      );
    } finally {
      await server.close();
      await prepared.cleanup();
    }
  });

  it('keeps several signatures as referrers and picks the one made with the given key', async () => {
    const second = await generateKeyFiles(join(dir, 'second'));
    const copy = join(dir, 'second-signed.ferry');
    await cp(bundle, copy);
    await signBundle(copy, second.privateKey);
    await pushBundle(bundle, oci('ml/twice:1.0.0'));
    await pushBundle(copy, oci('ml/twice:1.0.0'));
    for (const key of [keys.publicKey, second.publicKey]) {
      const out = join(dir, `twice-${Math.random().toString(36).slice(2)}`);
      const pull = await runCli(['pull', oci('ml/twice:1.0.0'), '-o', out, '--pub', key]);
      expect(pull.code).toBe(0);
      const verify = await runCli(['verify', join(out, 'sentiment-1.0.0.ferry'), '--pub', key]);
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
    }
  });

  it('fails a push whose file disagrees with its manifest (the registry checks every digest)', async () => {
    const bytes = await readFile(bundle);
    const vocab = (await readTarIndex(bundle)).find((e) => e.path === 'vocab.txt')!;
    bytes[vocab.dataOffset]! ^= 0x20;
    const corrupt = join(dir, 'corrupt.ferry');
    await writeFile(corrupt, bytes);
    const push = await runCli(['push', corrupt, oci('ml/corrupt:1.0.0'), '--no-signature']);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/^ferry push: FERRY_REGISTRY_DIGEST_MISMATCH: /);
    const client = new OciClient({ endpoint: registry.endpoint, repository: 'ml/corrupt' });
    expect(await client.getManifest('1.0.0', [OCI_MANIFEST])).toBeUndefined();
  });

  it('refuses a layer changed in the registry storage, leaving no bundle behind', async () => {
    const pushed = await pushBundle(bundle, oci('tamper/layer:1.0.0'));
    // the blobs are content-addressed and shared; flip a byte of vocab.txt's stored data
    const vocab = (await import('@ferry/bundle')).openBundle;
    const opened = await vocab(bundle);
    const record = opened.manifest.files.find((f) => f.path === 'vocab.txt')!;
    const blob = join(
      registry.root,
      'docker/registry/v2/blobs/sha256',
      record.sha256.slice(0, 2),
      record.sha256,
      'data',
    );
    const original = await readFile(blob);
    const changed = Buffer.from(original);
    changed[0]! ^= 0x20;
    await writeFile(blob, changed);
    try {
      const out = join(dir, 'tampered-layer');
      const pull = await runCli(['pull', pushed.reference, '-o', out]);
      expect(pull.code).toBe(2);
      expect(pull.stderr).toMatch(
        /FERRY_BUNDLE_OCI: .*layer vocab\.txt \(sha256:[0-9a-f]{64}\) arrived with sha256 [0-9a-f]{64}: the blob does not match its digest/,
      );
      // the folder the pull made is gone again: nothing is left behind
      expect(existsSync(out)).toBe(false);
      // serve refuses it too, and writes nothing outside its temp folder (which it removes)
      const left = await inOwnTmp(async () => {
        await expect(prepareBundleServe(pushed.reference, { publicKey: keys.publicKey })).rejects.toThrow(
          /does not match its digest/,
        );
      });
      expect(left).toEqual([]);
    } finally {
      await writeFile(blob, original);
    }
  });

  it('refuses a manifest whose layers disagree with the bundle manifest', async () => {
    const pushed = await pushBundle(bundle, oci('tamper/manifest:1.0.0'));
    const client = new OciClient({ endpoint: registry.endpoint, repository: 'tamper/manifest' });
    const fetched = await client.getManifest(pushed.digest, [OCI_MANIFEST]);
    const doc = JSON.parse(Buffer.from(fetched!.bytes).toString('utf8'));
    // point handler.mjs's layer at README.md's blob (it exists, so the registry accepts the manifest)
    const readme = doc.layers.find(
      (l: { annotations: Record<string, string> }) =>
        l.annotations['org.cncf.model.filepath'] === 'README.md',
    );
    const handler = doc.layers.find(
      (l: { annotations: Record<string, string> }) =>
        l.annotations['org.cncf.model.filepath'] === 'handler.mjs',
    );
    handler.digest = readme.digest;
    handler.size = readme.size;
    await client.putManifest('evil', new TextEncoder().encode(JSON.stringify(doc)), OCI_MANIFEST);
    const pull = await runCli(['pull', oci('tamper/manifest:evil'), '-o', join(dir, 'tampered-manifest')]);
    expect(pull.code).toBe(2);
    expect(pull.stderr).toMatch(
      /FERRY_BUNDLE_OCI: .*layer handler\.mjs is sha256:[0-9a-f]{64} \(290 bytes\), the bundle manifest says sha256:[0-9a-f]{64} \(\d+ bytes\)/,
    );
  });

  it('refuses a re-packed bundle carrying the old signature, before anything is unpacked', async () => {
    // an attacker with push rights but no key: a changed handler, the genuine signature attached
    const evil = await variant('evil', async (project) => {
      const path = join(project, 'handler.mjs');
      await writeFile(path, `${await readFile(path, 'utf8')}\n// exfiltrate\n`);
    });
    await pushBundle(evil, oci('tamper/resigned:1.0.0'), { signature: `${bundle}.sig` });
    const left = await inOwnTmp(async () => {
      await expect(
        prepareBundleServe(oci('tamper/resigned:1.0.0'), {
          publicKey: keys.publicKey,
          requireSignature: true,
        }),
      ).rejects.toThrow(/FERRY_BUNDLE_TAMPERED|verification failed: .*handler\.mjs changed/);
    });
    expect(left).toEqual([]);
  });

  it('refuses an unsigned bundle with --require-signature (CLI: one line, exit 2)', async () => {
    const unsigned = await variant('unsigned', async (project) => {
      const path = join(project, 'ferry.yaml');
      await writeFile(path, (await readFile(path, 'utf8')).replace('version: 1.0.0', 'version: 1.0.1'));
    });
    const push = await runCli(['push', unsigned, oci('ml/unsigned:1.0.1')]);
    expect(push.stdout).toMatch(/unsigned \(no signature file\)/);
    const left = await inOwnTmp(async () => {
      const served = await runCli([
        'serve',
        oci('ml/unsigned:1.0.1'),
        '--require-signature',
        '--pub',
        keys.publicKey,
        '--http-port',
        '0',
        '--grpc-port',
        '0',
      ]);
      expect(served.code).toBe(2);
      expect(served.stderr).toMatch(
        /^ferry serve: FERRY_BUNDLE_UNSIGNED: oci:\/\/.*ml\/unsigned:1\.0\.1: the registry holds no signature referrer for this manifest, and --require-signature was given\n$/,
      );
    });
    expect(left).toEqual([]);
  });
});

describe.skipIf(!present)('ferry push/pull with registry credentials', () => {
  it('sends FERRY_OCI_USERNAME / FERRY_OCI_PASSWORD when the registry asks (htpasswd Basic auth)', async () => {
    const htpasswd = fileURLToPath(new URL('../../../fixtures/bundle-oci/htpasswd', import.meta.url));
    const secured = await startOciRegistry([
      'auth:',
      '  htpasswd:',
      '    realm: ferry-test',
      `    path: ${htpasswd}`,
    ]);
    const ref = `oci://${secured.hostPort}/secure/sentiment:1.0.0`;
    try {
      const anonymous = await runCli(['push', bundle, ref]);
      expect(anonymous.code).toBe(2);
      expect(anonymous.stderr).toMatch(
        /FERRY_REGISTRY_UNAUTHORIZED: .*set FERRY_OCI_USERNAME and FERRY_OCI_PASSWORD/,
      );
      process.env.FERRY_OCI_USERNAME = 'ferry';
      process.env.FERRY_OCI_PASSWORD = 'ferry-test-password';
      const push = await runCli(['push', bundle, ref]);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
      const pull = await runCli(['pull', ref, '-o', join(dir, 'secure')]);
      expect(pull.code).toBe(0);
      const verify = await runCli([
        'verify',
        join(dir, 'secure', 'sentiment-1.0.0.ferry'),
        '--pub',
        keys.publicKey,
      ]);
      expect(verify.code).toBe(0);
    } finally {
      delete process.env.FERRY_OCI_USERNAME;
      delete process.env.FERRY_OCI_PASSWORD;
      await secured.stop();
    }
  });
});

describe('serving a local bundle', () => {
  it('serves a scikit-learn joblib model from a bundle (converted to ONNX-ML at load)', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ferry-serve-joblib-'));
    try {
      const sklearn = fileURLToPath(new URL('../../../fixtures/sklearn/', import.meta.url));
      const project = join(own, 'project');
      await cp(join(sklearn, 'forest_classifier_iris.joblib'), join(project, 'model', 'iris.joblib'));
      await writeFile(
        join(project, 'ferry.yaml'),
        'name: iris\nversion: 1.0.0\nmodels:\n  - name: iris\n    path: model/iris.joblib\n    format: joblib\n',
      );
      await packBundle(project, { output: join(own, 'iris.ferry') });
      const prepared = await prepareBundleServe(join(own, 'iris.ferry'));
      const server = await serve(prepared);
      try {
        const expected = JSON.parse(await readFile(join(sklearn, 'forest_classifier_iris.json'), 'utf8')) as {
          X: number[][];
          label: number[];
        };
        const rows = expected.X.slice(0, 8);
        const response = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/iris/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: 'input', datatype: 'FP32', shape: [8, 4], data: rows.flat() }],
          }),
        });
        const body = (await response.json()) as { outputs: { name: string; data: number[] }[] };
        expect(response.status).toBe(200);
        expect(body.outputs.find((o) => o.name === 'label')?.data).toEqual(expected.label.slice(0, 8));
      } finally {
        await server.close();
        await prepared.cleanup();
      }
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('refuses a bundle whose entry escapes its root, writing nothing outside the temp folder', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ferry-serve-slip-'));
    try {
      const { encodeHeader, padding, BLOCK } = await import('@ferry/bundle');
      const data = Buffer.from('owned');
      const name = `../../../${own.slice(1)}/escaped`;
      const archive = Buffer.concat([
        encodeHeader({ name, mode: 0o644, size: data.length, type: '0' }),
        data,
        new Uint8Array(padding(data.length)),
        new Uint8Array(2 * BLOCK),
      ]);
      const path = join(own, 'slip.ferry');
      await writeFile(path, archive);
      await expect(prepareBundleServe(path)).rejects.toThrow(/FERRY_BUNDLE_UNSAFE_ENTRY|must stay inside/);
      expect(await readdir(own)).toEqual(['slip.ferry']);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('runs a slow preprocess off the event loop; a thread that exits is replaced', async () => {
    const local = await mkdtemp(join(tmpdir(), 'ferry-serve-handler-'));
    try {
      const project = join(local, 'project');
      await cp(PROJECT, project, { recursive: true });
      await writeFile(
        join(project, 'wrapped.mjs'),
        [
          "import * as base from './handler.mjs';",
          'export function preprocess(request) {',
          "  if (request.mode === 'slow') { const end = Date.now() + 1500; while (Date.now() < end); }",
          "  if (request.mode === 'exit') process.exit(3);",
          '  return base.preprocess(request);',
          '}',
          'export const postprocess = base.postprocess;',
          '',
        ].join('\n'),
      );
      const yaml = join(project, 'ferry.yaml');
      await writeFile(
        yaml,
        (await readFile(yaml, 'utf8'))
          .replace('module: handler.mjs', 'module: wrapped.mjs')
          .replace('files:\n  - vocab.txt', 'files:\n  - vocab.txt\n  - handler.mjs'),
      );
      const packed = await packBundle(project, { output: join(local, 'wrapped.ferry') });
      const prepared = await prepareBundleServe(packed.path);
      const server = await serve(prepared);
      try {
        const base = `http://127.0.0.1:${server.httpPort}/v2`;
        let slowDone = false;
        const slow = fetch(`${base}/models/classifier/handler`, {
          method: 'POST',
          body: JSON.stringify({ mode: 'slow', text: 'great' }),
        }).then((r) => {
          slowDone = true;
          return r;
        });
        // the busy-looping preprocess holds a worker thread, not the event loop: health answers meanwhile
        await new Promise((r) => setTimeout(r, 100));
        expect((await fetch(`${base}/health/live`)).status).toBe(200);
        expect(slowDone).toBe(false);
        expect((await slow).status).toBe(200);

        const exit = await fetch(`${base}/models/classifier/handler`, {
          method: 'POST',
          body: '{"mode":"exit"}',
        });
        expect(exit.status).toBe(500);
        expect(((await exit.json()) as { error: string }).error).toMatch(/exited with code 3/);
        for (let i = 0; i < 3; i++) {
          const ok = await fetch(`${base}/models/classifier/handler`, {
            method: 'POST',
            body: '{"text":"not bad"}',
          });
          expect(ok.status).toBe(200);
        }
      } finally {
        await server.close();
        await prepared.cleanup();
      }
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
