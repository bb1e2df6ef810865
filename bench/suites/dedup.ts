/**
 * `npm run bench -- dedup`: chunked, tensor-aligned dedup in the registry (issue #20), on
 * checkpoints made by Debian's torch (bench/make/dedup_checkpoints.py), each scenario on a fresh
 * `ferry registry serve` (SQLite + folder):
 *  1. partial fine-tune (last block, 10% of the parameters): bytes v2 sends and stores after v1,
 *     and fetches when pulled with v1 cached (goal <= 12%);
 *  2. the same weights as .pt, then as .safetensors converted from it (goal <= 2%);
 *  3. full fine-tune (every weight changes): chunking's overhead in bytes (goal <= 1%) and in time
 *     against the previous commit's whole-file push/pull, side by side (goal <= 1.1x);
 *  4. two checkpoints of one run a few steps apart, next to Xet's published 53% on GPT-2;
 *  5. a 1 GiB file pushed and pulled with nothing cached, against Debian's docker-registry driven
 *     by curl, and the previous commit (goal >= 1.0x of docker-registry).
 * FERRY_BENCH_BASELINE: a built checkout of the commit before chunking (e.g. `git archive
 * 3df52a2`, npm workspaces linked, `npx tsc -b packages/cli`); without it the time rows against it
 * are left out. FERRY_BENCH_DEDUP_MB shrinks the 1 GiB file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertToSafetensors } from '@ferry/convert';
import { ChunkCache, RegistryClient, type TransferBytes } from '@ferry/registry-client';
import { startOciRegistry } from '../../scripts/test/backends.js';
import { markdownTable, shellSeconds, writeSection } from '../lib/report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(root, 'bench/.data/dedup');
const CKPT = join(DATA, 'checkpoints');
const BASELINE = process.env.FERRY_BENCH_BASELINE;
const BIG_MB = Number(process.env.FERRY_BENCH_DEDUP_MB ?? 1024);
/** Timed transfers run this many alternating rounds; the tables give medians. */
const ROUNDS = Number(process.env.FERRY_BENCH_DEDUP_ROUNDS ?? 3);
type BaselineClient = InstanceType<typeof import('@ferry/registry-client').RegistryClient>;
const baseline = BASELINE
  ? ((await import(
      join(BASELINE, 'packages/registry-client/dist/index.js')
    )) as typeof import('@ferry/registry-client'))
  : undefined;
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)}%`;
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

interface Server {
  child: ChildProcess;
  url: string;
  data: string;
}

async function startServer(cli: string, data: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [cli, 'registry', 'serve', '--port', '0', '--data', data, '--auth', 'none'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const on = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  return { child, url, data };
}

async function stop(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

/** Bytes the server keeps on disk for blobs (chunks) under its data folder. */
const storedBytes = (server: Server) =>
  Number(execFileSync('du', ['-sb', join(server.data, 'blobs')], { encoding: 'utf8' }).split('\t')[0]);

async function push(client: RegistryClient, file: string, model: string) {
  let bytes: TransferBytes = { sent: 0, skipped: 0 };
  const start = process.hrtime.bigint();
  await client.push(file, { model, onProgress: (_d, _t, _p, b) => (bytes = b ?? bytes) });
  return { seconds: seconds(start), ...bytes };
}

async function pull(client: RegistryClient, uri: string, out: string, cache?: ChunkCache | false) {
  let bytes: TransferBytes = { sent: 0, skipped: 0 };
  await rm(out, { recursive: true, force: true });
  const start = process.hrtime.bigint();
  await client.pull(uri, out, {
    force: true,
    ...(cache !== undefined && { cache }),
    onProgress: (_d, _t, _p, b) => (bytes = b ?? bytes),
  });
  const took = seconds(start);
  await rm(out, { recursive: true, force: true });
  return { seconds: took, ...bytes };
}

/** Runs `use` against a fresh server of ours (and stops it). */
async function withServer<T>(
  name: string,
  use: (client: RegistryClient, server: Server) => Promise<T>,
): Promise<T> {
  const data = join(DATA, `server-${name}`);
  await rm(data, { recursive: true, force: true });
  const server = await startServer(join(root, 'packages/cli/bin/ferry.js'), data);
  try {
    return await use(new RegistryClient({ url: server.url }), server);
  } finally {
    await stop(server);
    await rm(data, { recursive: true, force: true });
  }
}

/** Runs `use` against a fresh server of the baseline build (FERRY_BENCH_BASELINE), then stops it. */
async function withBaseline<T>(use: (client: BaselineClient) => Promise<T>): Promise<T> {
  const data = join(DATA, 'server-base');
  await rm(data, { recursive: true, force: true });
  const server = await startServer(join(BASELINE!, 'packages/cli/bin/ferry.js'), data);
  try {
    return await use(new baseline!.RegistryClient({ url: server.url }));
  } finally {
    await stop(server);
    await rm(data, { recursive: true, force: true });
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return seconds(start);
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const secs = (value: number) => value.toFixed(2);
const ratio = (ours: number, base: number) => (ours / base).toFixed(2);

/**
 * A 1 GiB model-like file: safetensors with 64 MiB F32 tensors of random bytes (weights do not
 * compress or repeat), so it is cut at its tensors as any model file ferry reads.
 */
async function makeBig(path: string, mb: number): Promise<void> {
  const tensorMb = Math.min(64, mb);
  const count = Math.floor(mb / tensorMb);
  const header: Record<string, unknown> = {};
  for (let i = 0; i < count; i++)
    header[`layer.${i}.weight`] = {
      dtype: 'F32',
      shape: [(tensorMb * 1024 * 1024) / 4],
      data_offsets: [i * tensorMb * 1024 * 1024, (i + 1) * tensorMb * 1024 * 1024],
    };
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  const out = createWriteStream(path);
  out.write(length);
  out.write(text);
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < count * tensorMb; i++) {
    chunk.writeUInt32LE(i, 0); // every MiB differs, like real weights
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

export async function run(): Promise<void> {
  const loadBefore = loadavg()[0]!.toFixed(1);
  await mkdir(DATA, { recursive: true });
  if (!existsSync(join(CKPT, 'made.json')))
    execFileSync('/usr/bin/python3', [join(root, 'bench/make/dedup_checkpoints.py'), CKPT], {
      stdio: 'inherit',
    });
  const made = JSON.parse(await readFile(join(CKPT, 'made.json'), 'utf8')) as {
    parameters: number;
    partialTrained: number;
    torch: string;
  };
  const f = (name: string) => join(CKPT, name);
  const size = (name: string) => statSync(f(name)).size;
  if (!existsSync(f('v1-from-pt.safetensors')))
    await convertToSafetensors(f('v1.pt'), f('v1-from-pt.safetensors'));
  const rows: (string | number)[][] = [];

  // 1. partial fine-tune
  await withServer('partial', async (client, server) => {
    await push(client, f('v1.safetensors'), 'bench/ft');
    const before = storedBytes(server);
    const v2 = await push(client, f('v2-partial.safetensors'), 'bench/ft');
    const stored = storedBytes(server) - before;
    const cache = new ChunkCache(join(DATA, 'cache-partial'));
    await cache.prune(0);
    await pull(client, 'models:/bench/ft/1', join(DATA, 'out'), cache);
    const pulled = await pull(client, 'models:/bench/ft/2', join(DATA, 'out'), cache);
    await cache.prune(0);
    const whole = size('v2-partial.safetensors');
    rows.push(
      [
        '1. partial fine-tune: push v2 after v1, bytes sent',
        pct(v2.sent, whole),
        '<= 12%',
        `${((made.partialTrained / made.parameters) * 100).toFixed(1)}% of parameters trained`,
      ],
      [
        '1. partial fine-tune: push v2 after v1, bytes stored',
        pct(stored, whole),
        '<= 12%',
        'blob folder growth (du)',
      ],
      ['1. partial fine-tune: pull v2 with v1 cached, bytes fetched', pct(pulled.sent, whole), '<= 12%', ''],
    );
  });

  // 2. same weights, two formats
  await withServer('formats', async (client, server) => {
    await push(client, f('v1.pt'), 'bench/fmt');
    const before = storedBytes(server);
    const st = await push(client, f('v1-from-pt.safetensors'), 'bench/fmt');
    const stored = storedBytes(server) - before;
    const whole = size('v1-from-pt.safetensors');
    rows.push(
      ['2. model.pt, then model.safetensors converted from it: bytes sent', pct(st.sent, whole), '<= 2%', ''],
      ['2. model.pt, then model.safetensors: bytes stored', pct(stored, whole), '<= 2%', ''],
    );
  });

  // 3. full fine-tune: overhead in bytes, then time against the previous commit, in alternating
  // rounds (ours, then the baseline, each on a fresh server) so both meet the same machine load.
  const full = size('v3-full.safetensors');
  const fullRound = () =>
    withServer('full', async (client, server) => {
      await push(client, f('v1.safetensors'), 'bench/full');
      const before = storedBytes(server);
      const p = await push(client, f('v3-full.safetensors'), 'bench/full');
      const stored = storedBytes(server) - before;
      const cache = new ChunkCache(join(DATA, 'cache-full'));
      await cache.prune(0);
      await pull(client, 'models:/bench/full/1', join(DATA, 'out'), cache);
      const l = await pull(client, 'models:/bench/full/2', join(DATA, 'out'), cache);
      await cache.prune(0);
      return { push: p, pull: l, stored };
    });
  const baseFullRound = () =>
    withBaseline(async (client) => {
      await client.push(f('v1.safetensors'), { model: 'bench/full' });
      const pushed = await timed(() => client.push(f('v3-full.safetensors'), { model: 'bench/full' }));
      await rm(join(DATA, 'out'), { recursive: true, force: true });
      const pulled = await timed(() =>
        client.pull('models:/bench/full/2', join(DATA, 'out'), { force: true }),
      );
      await rm(join(DATA, 'out'), { recursive: true, force: true });
      return { push: pushed, pull: pulled };
    });
  const fullRuns: Awaited<ReturnType<typeof fullRound>>[] = [];
  const baseFullRuns: { push: number; pull: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    fullRuns.push(await fullRound());
    if (baseline) baseFullRuns.push(await baseFullRound());
  }
  const ours = fullRuns[0]!;
  // Wire overhead: 36 header bytes per chunk sent, plus the JSON of the missing query and manifest.
  const chunks = Math.ceil(full / (4 * 1024 * 1024)) + 3;
  const wire = chunks * 36 + chunks * 2 * 70;
  rows.push(
    [
      '3. full fine-tune: bytes sent (chunk bytes + pack headers and JSON, est.)',
      pct(ours.push.sent + wire, full),
      '<= 101%',
      '',
    ],
    ['3. full fine-tune: bytes stored', pct(ours.stored, full), '<= 101%', ''],
  );
  const timeRows: (string | number)[][] = [];
  if (baseline) {
    const pushOurs = median(fullRuns.map((r) => r.push.seconds));
    const pullOurs = median(fullRuns.map((r) => r.pull.seconds));
    const pushBase = median(baseFullRuns.map((r) => r.push));
    const pullBase = median(baseFullRuns.map((r) => r.pull));
    timeRows.push(
      [
        '3. full fine-tune: push v3 after v1',
        secs(pushOurs),
        secs(pushBase),
        ratio(pushOurs, pushBase),
        '<= 1.1x',
      ],
      [
        '3. full fine-tune: pull v3 (v1 cached)',
        secs(pullOurs),
        secs(pullBase),
        ratio(pullOurs, pullBase),
        '<= 1.1x',
      ],
    );
  }

  // 4. two checkpoints of one run
  await withServer('run', async (client) => {
    await push(client, f('run-a.safetensors'), 'bench/run');
    const b = await push(client, f('run-b.safetensors'), 'bench/run');
    rows.push([
      '4. checkpoint 3 steps after another (all weights trained): bytes saved',
      pct(b.skipped, b.sent + b.skipped),
      'Xet: 53% on two GPT-2 versions',
      'Adam moves every weight each step, so only headers and untouched rows can match',
    ]);
  });

  // 5. 1 GiB with nothing cached: ferry, docker-registry + curl, the previous commit, in
  // alternating rounds, each on a fresh server (and a fresh, empty cache for ferry's pull).
  const big = join(DATA, 'big.safetensors');
  // made again when a run asks for another size (FERRY_BENCH_DEDUP_MB)
  if (!existsSync(big) || statSync(big).size < BIG_MB * 1024 * 1024) await makeBig(big, BIG_MB);
  const digest = execFileSync('sha256sum', [big], { encoding: 'utf8' }).split(' ')[0];
  const speeds: { push: number; pull: number }[] = [];
  const dockers: { push: number; pull: number }[] = [];
  const bases: { push: number; pull: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    speeds.push(
      await withServer('big', async (client) => {
        const p = await push(client, big, 'bench/big');
        const cache = new ChunkCache(join(DATA, 'cache-big'));
        await cache.prune(0);
        const l = await pull(client, 'models:/bench/big/1', join(DATA, 'out'), cache);
        await cache.prune(0);
        return { push: p.seconds, pull: l.seconds };
      }),
    );
    const registry = await startOciRegistry();
    try {
      const endpoint = registry.endpoint;
      const pushed = shellSeconds(
        `D=$(sha256sum ${big} | cut -d' ' -f1); L=$(curl -sf -D - -o /dev/null -X POST ${endpoint}/v2/bench/big/blobs/uploads/ | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p'); ` +
          `curl -sf -o /dev/null -T ${big} -H 'content-type: application/octet-stream' "$L&digest=sha256:$D"`,
      );
      const pulled = shellSeconds(
        `curl -sf ${endpoint}/v2/bench/big/blobs/sha256:${digest} | tee ${DATA}/pulled.bin | sha256sum > /dev/null`,
      );
      await rm(join(DATA, 'pulled.bin'), { force: true });
      dockers.push({ push: pushed, pull: pulled });
    } finally {
      await registry.stop();
    }
    if (baseline)
      bases.push(
        await withBaseline(async (client) => {
          const pushed = await timed(() => client.push(big, { model: 'bench/big' }));
          const pulled = await timed(() =>
            client.pull('models:/bench/big/1', join(DATA, 'out'), { force: true }),
          );
          await rm(join(DATA, 'out'), { recursive: true, force: true });
          return { push: pushed, pull: pulled };
        }),
      );
  }
  const bigRow = (label: string, pick: (t: { push: number; pull: number }) => number) => {
    const ferry = median(speeds.map(pick));
    const docker = median(dockers.map(pick));
    return [
      label,
      secs(ferry),
      secs(docker),
      (docker / ferry).toFixed(2),
      bases.length > 0 ? secs(median(bases.map(pick))) : '-',
      '>= 1.0x',
    ];
  };
  const bigRows = [bigRow('push', (t) => t.push), bigRow('pull (verified)', (t) => t.pull)];

  writeSection(
    'dedup',
    'Registry dedup: tensor-aligned chunks (issue #20)',
    'FERRY_BENCH_BASELINE=/path/to/built/3df52a2 npm run bench -- dedup',
    [
      `Checkpoints: bench/make/dedup_checkpoints.py with Debian's torch ${made.torch}: a GPT-2-small-like fp32 stack of ${(made.parameters / 1e6).toFixed(1)} M parameters, ${(size('v1.safetensors') / 2 ** 20).toFixed(0)} MiB as safetensors. Every scenario runs on a fresh \`ferry registry serve\` (SQLite + folder, loopback), all rows from one run; timed transfers are the median of ${ROUNDS} alternating rounds (ours, docker-registry, the previous commit), each on a fresh server. 1-minute load average ${loadBefore} before the run, ${loadavg()[0]!.toFixed(1)} after it.`,
      '',
      '### Bytes',
      '',
      markdownTable(['scenario', 'ratio of the file', 'goal', 'note'], rows),
      '',
      ...(timeRows.length > 0
        ? [
            '### Full fine-tune: time against the previous commit (whole-file transfer), side by side',
            '',
            markdownTable(['transfer', 'chunked s', 'whole-file s (3df52a2)', 'ratio', 'goal'], timeRows),
            '',
          ]
        : []),
      `### ${BIG_MB} MiB safetensors file (64 MiB tensors), nothing cached: ferry against docker-registry driven by curl`,
      '',
      markdownTable(
        [
          'transfer',
          'ferry s',
          'docker-registry + curl s',
          'ratio (docker / ferry)',
          'previous commit s',
          'goal',
        ],
        bigRows,
      ),
      '',
      'docker-registry push: `sha256sum`, then POST + one PUT with the digest; pull: GET piped through `tee FILE | sha256sum` (three processes, so its hashing runs beside its writing on the second core). docker-registry does not fsync what it stores; ferry fdatasyncs each pack step before it acknowledges it (docs/registry.md, storage model), and verifies the whole file on the client after a pull as docker does.',
      `Where the time goes in ferry (per GiB, both sides on these two cores): push hashes every byte twice on the client (chunk names on the main thread, the file's sha256 in a worker) and twice on the server (each chunk verified, the file hashed as its packs arrive), where docker-registry hashes once on each side; pull hashes once on the client (in a worker, beside the writes) and reads the file as one pack on the server.`,
      `Xet's 53% (Hugging Face, two GPT-2 versions) measures storage saved across a repository's history, where most files and many tensors did not change; scenario 4 is the hardest case for any dedup (every weight moved), and scenario 1 the case tensor alignment is for.`,
    ].join('\n'),
  );
}
