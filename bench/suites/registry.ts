/**
 * `npm run bench -- registry`: the registry's transfer and search numbers for BENCHMARKS.md.
 *  - push and pull of a 1 GiB file through `ferry registry serve` (SQLite + folder), as a ratio of
 *    `cp` + sync on the same disk (goal >= 0.7);
 *  - the server's memory while 50 clients pull that file at once (streaming: flat);
 *  - search latency p50/p99 over HTTP with 10,000 versions, on SQLite and on PostgreSQL (goal p99 < 50 ms).
 * FERRY_BENCH_REGISTRY_MB shrinks the file for a quick run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createRegistryServer,
  FolderBlobStore,
  type MetadataStore,
  PostgresStore,
  RegistryDb,
  SqliteStore,
} from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { markdownTable, shellSeconds, writeSection } from '../lib/report.js';
import { httpLoopbackSeconds, sha256Seconds } from '../lib/transport-floor.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(root, 'bench/.data/registry');
const MB = Number(process.env.FERRY_BENCH_REGISTRY_MB ?? 1024);
const POSTGRES_URL = process.env.FERRY_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const PULLERS = 50;

async function makeFile(path: string, mb: number): Promise<void> {
  const chunk = randomBytes(1024 * 1024);
  const out = createWriteStream(path);
  for (let i = 0; i < mb; i++) {
    chunk[0] = i & 0xff; // every MiB differs, like real weights
    chunk[1] = i >> 8;
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

async function startServer(data: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'packages/cli/bin/ferry.js'),
      'registry',
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--auth',
      'none',
    ],
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
  return { child, url };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function transfers(): Promise<string> {
  const work = join(DATA, 'transfer');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const file = join(work, 'weights.bin');
  await makeFile(file, MB);
  const cp = shellSeconds(`cp ${file} ${join(work, 'copy.bin')} && sync ${join(work, 'copy.bin')}`);
  await rm(join(work, 'copy.bin'));
  const hashOnly = await sha256Seconds(file);
  const httpOnly = await httpLoopbackSeconds(file);

  const server = await startServer(join(work, 'server'));
  try {
    const client = new RegistryClient({ url: server.url });
    const pushStart = process.hrtime.bigint();
    const version = await client.push(file, { model: 'bench/big' });
    const push = Number(process.hrtime.bigint() - pushStart) / 1e9;
    const pullStart = process.hrtime.bigint();
    await client.pull(`models:/bench/big/${version.version}`, join(work, 'pulled'));
    const pull = Number(process.hrtime.bigint() - pullStart) / 1e9;
    await rm(join(work, 'pulled'), { recursive: true });

    // 50 clients stream the whole file at once; the server's RSS is sampled every 100 ms.
    const idle = await rssMiB(server.child.pid!);
    let peak = idle;
    const sampler = setInterval(async () => {
      peak = Math.max(peak, await rssMiB(server.child.pid!).catch(() => 0));
    }, 100);
    const manyStart = process.hrtime.bigint();
    const url = `${server.url}/api/v1/models/bench%2Fbig/versions/${version.version}/files/weights.bin`;
    const received = await Promise.all(
      Array.from({ length: PULLERS }, async () => {
        const response = await fetch(url);
        let bytes = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
          bytes += chunk.length;
        return bytes;
      }),
    );
    const many = Number(process.hrtime.bigint() - manyStart) / 1e9;
    clearInterval(sampler);
    if (received.some((b) => b !== MB * 1024 * 1024)) throw new Error('a puller got a short file');
    const rows = [
      ['push', push.toFixed(2), cp.toFixed(2), (cp / push).toFixed(2), '>= 0.7'],
      ['pull (verified)', pull.toFixed(2), cp.toFixed(2), (cp / pull).toFixed(2), '>= 0.7'],
      [
        'floor: one sha256 pass over the file (node:crypto)',
        hashOnly.toFixed(2),
        cp.toFixed(2),
        (cp / hashOnly).toFixed(2),
        '-',
      ],
      [
        'floor: node:http loopback GET, no hash, no disk',
        httpOnly.toFixed(2),
        cp.toFixed(2),
        (cp / httpOnly).toFixed(2),
        '-',
      ],
    ];
    return [
      `### Push and pull of a ${MB} MiB file (SQLite + folder, one \`ferry registry serve\` process, loopback)`,
      '',
      markdownTable(['transfer', 'seconds', '`cp` + sync seconds', 'ratio (cp / transfer)', 'goal'], rows),
      '',
      `Push hashes the file, uploads it in 64 MiB resumable chunks, and the server fsyncs, verifies the sha256 and commits; pull downloads to \`.partial\`, verifies the sha256 and renames.`,
      `The two floor rows bound any verified transfer over HTTP here: every byte is hashed at least once on each side, and crosses node:http once. Alone, the hash pass takes ${(hashOnly / cp).toFixed(1)}x and the HTTP hop ${(httpOnly / cp).toFixed(1)}x the time of cp + sync (the goal allows ${(1 / 0.7).toFixed(2)}x for the whole transfer).`,
      '',
      `### Server memory while ${PULLERS} clients pull the ${MB} MiB file at once`,
      '',
      markdownTable(
        [
          'server RSS idle (MiB)',
          'server RSS peak (MiB)',
          'growth (MiB)',
          'bytes served',
          'seconds',
          'aggregate MiB/s',
        ],
        [
          [
            idle.toFixed(0),
            peak.toFixed(0),
            (peak - idle).toFixed(0),
            `${PULLERS} x ${MB} MiB`,
            many.toFixed(1),
            ((PULLERS * MB) / many).toFixed(0),
          ],
        ],
      ),
    ].join('\n');
  } finally {
    server.child.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function search(
  label: string,
  store: MetadataStore,
): Promise<{ rows: (string | number)[][]; populate: number }> {
  const db = new RegistryDb(store);
  await db.migrate();
  const blobDir = join(DATA, `search-blobs-${label}`);
  const blobs = await FolderBlobStore.open(blobDir);
  // 100 models x 100 versions = 10,000 ready versions, each with a file, tags and some run ids.
  const populateStart = process.hrtime.bigint();
  for (let m = 0; m < 100; m++) {
    const model = `bench/model-${String(m).padStart(3, '0')}`;
    await db.models.create('bench', { name: model, tags: { family: m % 2 ? 'odd' : 'even' } });
    for (let v = 0; v < 100; v++) {
      const n = m * 100 + v;
      const { version } = await db.createVersion('bench', model, {
        files: [{ path: 'model.safetensors', sha256: n.toString(16).padStart(64, '0'), size: 1000 + n }],
        tags: { idx: String(n), split: v % 10 === 0 ? 'holdout' : 'train' },
      });
      await db.versions.finish('bench', model, version.version, {
        status: 'ready',
        formats: { 'model.safetensors': 'safetensors' },
        inspect: null,
        scan: 'safe',
        scanDetail: null,
      });
    }
  }
  const populate = Number(process.hrtime.bigint() - populateStart) / 1e9;
  const server = await createRegistryServer({
    db,
    blobs,
    auth: 'none',
    webhooks: false,
    log: () => undefined,
  });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const queries: [string, (i: number) => string][] = [
    [
      'MLflow model-versions/search `name = ...` (100 hits, page of 100)',
      (i) =>
        `/api/2.0/mlflow/model-versions/search?max_results=100&filter=${encodeURIComponent(`name = 'bench/model-${String(i % 100).padStart(3, '0')}'`)}`,
    ],
    [
      'MLflow model-versions/search `tags.idx = ...` (1 hit of 10,000)',
      (i) =>
        `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`tags.idx = '${(i * 37) % 10000}'`)}`,
    ],
    [
      'MLflow registered-models/search `name LIKE ...`',
      (i) =>
        `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent(`name LIKE 'bench/model-0${i % 10}%'`)}`,
    ],
    [
      'native GET /models/NAME/versions (100 versions)',
      (i) => `/api/v1/models/bench%2Fmodel-${String(i % 100).padStart(3, '0')}/versions`,
    ],
  ];
  const rows: (string | number)[][] = [];
  try {
    for (const [name, path] of queries) {
      for (let i = 0; i < 10; i++) await (await fetch(url + path(i))).arrayBuffer(); // warm-up
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const start = process.hrtime.bigint();
        const response = await fetch(url + path(i));
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${path(i)}: HTTP ${response.status}`);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      times.sort((a, b) => a - b);
      rows.push([label, name, percentile(times, 50).toFixed(1), percentile(times, 99).toFixed(1)]);
    }
  } finally {
    await server.close();
    await db.close();
    await rm(blobDir, { recursive: true, force: true });
  }
  return { rows, populate };
}

export async function run(): Promise<void> {
  execFileSync('npx', ['tsc', '-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
  await mkdir(DATA, { recursive: true });
  const transferText = await transfers();

  const sqlitePath = join(DATA, 'search.db');
  for (const suffix of ['', '-wal', '-shm']) await rm(sqlitePath + suffix, { force: true });
  const sqlite = await search('SQLite', new SqliteStore(sqlitePath));
  const schema = `ferry_bench_${process.pid}`;
  const pg = await search(
    'PostgreSQL 15',
    await PostgresStore.open({ connectionString: POSTGRES_URL, schema }),
  );
  const cleanup = await PostgresStore.open({ connectionString: POSTGRES_URL });
  await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
  await cleanup.close();
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(sqlitePath + suffix)) await rm(sqlitePath + suffix);

  const body = [
    transferText,
    '',
    '### Search latency with 10,000 versions (100 models x 100 versions), over HTTP, 200 queries each',
    '',
    markdownTable(['database', 'query', 'p50 ms', 'p99 ms'], [...sqlite.rows, ...pg.rows]),
    '',
    `Goal: p99 < 50 ms. Populating 10,000 versions through the query layer (create + commit, audited): SQLite ${sqlite.populate.toFixed(1)} s, PostgreSQL ${pg.populate.toFixed(1)} s.`,
  ].join('\n');
  writeSection('registry', 'Registry', 'npm run bench -- registry', body);
}
