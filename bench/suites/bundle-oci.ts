/**
 * Bundles through an OCI registry (Debian's docker-registry on loopback, storage on this disk):
 * `ferry push` of a 1 GiB bundle (one 1 GiB safetensors model, the bundle suite's project) to a
 * fresh repository (every blob uploaded with chunked PATCH) and again (every blob skipped by HEAD),
 * `ferry pull` (every blob hashed, the archive rebuilt byte for byte), both as ratios of `cp` of
 * the bundle file; and the time from spawning `ferry serve oci://...` (the fixture bundle: pull,
 * verify, unpack, load, warm up) to ready. Needs `npm run build` (the CLI runs from dist/).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateKeyFiles,
  openBundle,
  packBundle,
  pullBundle,
  pushBundle,
  readTarIndex,
  signBundle,
} from '@ferry/bundle';
import { startOciRegistry } from '../../scripts/test/backends.js';
import { markdownTable, medianSeconds, shellSeconds, writeSection } from '../lib/report.js';
import { makeProject } from './bundle.js';

const DATA = fileURLToPath(new URL('../.data/bundle-oci/', import.meta.url));
const BIG_PROJECT = fileURLToPath(new URL('../.data/bundle/project/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../fixtures/bundle/', import.meta.url));
const CLI = fileURLToPath(new URL('../../packages/cli/bin/ferry.js', import.meta.url));

/** Seconds from spawning `ferry serve REF` until it prints its ports (it does once ready), then stops it. */
async function serveToReady(ref: string, pub: string): Promise<number> {
  const start = process.hrtime.bigint();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      ref,
      '--require-signature',
      '--pub',
      pub,
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--json',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /"httpPort":(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.stderr!.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`ferry serve exited with ${code}: ${output}`)));
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
  if (ready.status !== 200)
    throw new Error(`ferry serve printed its ports but is not ready (${ready.status})`);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return seconds;
}

export async function run(): Promise<void> {
  if (!existsSync(join(CLI, '../../dist/main.js')))
    throw new Error('bundle-oci bench: run `npm run build` first');
  makeProject(BIG_PROJECT);
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const bundle = (await packBundle(BIG_PROJECT, { output: join(DATA, 'big.ferry') })).path;
  const size = statSync(bundle).size;
  shellSeconds(`cat ${bundle} > /dev/null`);
  const registry = await startOciRegistry();
  try {
    const ref = (repo: string) => `oci://${registry.hostPort}/${repo}:1`;
    const repeat = 3;
    let n = 0;
    const push = await medianSeconds(repeat, () => pushBundle(bundle, ref(`bench/fresh${n++}`)));
    const repush = await medianSeconds(repeat, () => pushBundle(bundle, ref('bench/fresh0')));
    const pull = await medianSeconds(repeat, async () => {
      const out = join(DATA, `pull${n++}`);
      await pullBundle(ref('bench/fresh0'), out);
      rmSync(out, { recursive: true, force: true });
    });
    const cp = await medianSeconds(repeat, () => {
      shellSeconds(`cp ${bundle} ${DATA}/copy.ferry`);
      rmSync(join(DATA, 'copy.ferry'));
    });

    // pull fsyncs the rebuilt bundle before its atomic rename; `sync FILE` gives cp the same durability
    const cpSync = await medianSeconds(repeat, () => {
      shellSeconds(`cp ${bundle} ${DATA}/copy.ferry && sync ${DATA}/copy.ferry`);
      rmSync(join(DATA, 'copy.ferry'));
    });

    // The registry's own cost: curl moving the model blob (the bundle's bulk) in one request each way.
    const entries = await readTarIndex(bundle);
    const model = entries.find((e) => e.path.endsWith('.safetensors'))!;
    const blob = `${registry.endpoint}/v2/bench/fresh0/blobs/sha256:${(await openBundle(bundle)).manifest.files.find((f) => f.path === model.path)!.sha256}`;
    const curlGet = await medianSeconds(repeat, () => {
      shellSeconds(`curl -sf -o ${DATA}/blob ${blob} && sync ${DATA}/blob`);
      rmSync(join(DATA, 'blob'));
    });
    shellSeconds(`tail -c +${model.dataOffset + 1} ${bundle} | head -c ${model.size} > ${DATA}/model.raw`);
    const digest = `sha256:${(await openBundle(bundle)).manifest.files.find((f) => f.path === model.path)!.sha256}`;
    const curlPut = await medianSeconds(repeat, () =>
      shellSeconds(
        `L=$(curl -sf -D - -o /dev/null -X POST ${registry.endpoint}/v2/bench/curl${n++}/blobs/uploads/ | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p'); ` +
          `curl -sf -o /dev/null -T ${DATA}/model.raw -H 'content-type: application/octet-stream' "$L&digest=${digest}"`,
      ),
    );
    rmSync(join(DATA, 'model.raw'));

    const small = (await packBundle(FIXTURE, { output: join(DATA, 'sentiment.ferry') })).path;
    const keys = await generateKeyFiles(join(DATA, 'k'));
    await signBundle(small, keys.privateKey);
    await pushBundle(small, ref('bench/sentiment'));
    const ready = await medianSeconds(repeat, () => serveToReady(ref('bench/sentiment'), keys.publicKey));

    const gbps = (s: number) => (size / s / 1e9).toFixed(2);
    const rows = [
      [
        'ferry push (fresh repository: chunked PATCH uploads)',
        push.toFixed(2),
        gbps(push),
        `${(push / curlPut).toFixed(2)} x curl PUT, ${(push / cp).toFixed(2)} x cp`,
      ],
      [
        'ferry push again (every blob skipped by HEAD)',
        repush.toFixed(2),
        gbps(repush),
        `${(repush / cp).toFixed(2)} x cp`,
      ],
      [
        'ferry pull (hash every blob, rebuild the archive, fsync)',
        pull.toFixed(2),
        gbps(pull),
        `${(pull / curlGet).toFixed(2)} x curl GET + sync, ${(pull / cpSync).toFixed(2)} x cp + sync`,
      ],
      [
        'curl: POST + PUT of the model blob (monolithic upload)',
        curlPut.toFixed(2),
        gbps(curlPut),
        `${(curlPut / cp).toFixed(2)} x cp`,
      ],
      [
        'curl: GET of the model blob + sync FILE',
        curlGet.toFixed(2),
        gbps(curlGet),
        `${(curlGet / cp).toFixed(2)} x cp`,
      ],
      ['cp BUNDLE', cp.toFixed(2), gbps(cp), '1.00'],
      ['cp BUNDLE + sync FILE', cpSync.toFixed(2), gbps(cpSync), `${(cpSync / cp).toFixed(2)} x cp`],
    ];
    writeSection(
      'bundle-oci',
      'Bundles through an OCI registry (docker-registry on loopback)',
      'npm run bench -- bundle-oci',
      `A ${(size / 2 ** 30).toFixed(2)} GiB bundle (one safetensors model), median of ${repeat}; registry storage on the same disk, page-cached.\n\n` +
        `${markdownTable(['operation', 'seconds', 'GB/s', 'ratio'], rows)}\n\n` +
        `\`ferry serve oci://...\` of the fixture bundle (pull, verify the signature, unpack, load and warm up the ONNX model, start the handler threads), from process spawn to ready: **${ready.toFixed(2)} s** (median of ${repeat}).`,
    );
  } finally {
    await registry.stop();
  }
}
