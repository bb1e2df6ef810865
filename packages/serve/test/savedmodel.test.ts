import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isServeError } from '../src/index.js';
import { getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';
import { decodeRaw, encodeRaw, PROTOCOL_DATATYPE, sameValues } from './tensor-bytes.helper.js';

/**
 * SavedModels served by converting them to ONNX at load: TF Serving's half_plus_two exports and
 * tfjs's test models (../shared/fixtures/savedmodel, read-only: linked, never copied) and the
 * models TensorFlow 2.21 wrote with its own outputs (fixtures/savedmodel-onnx/expected.json).
 */
const SHARED = fileURLToPath(new URL('../../../../shared/fixtures/savedmodel/', import.meta.url));
const MADE = fileURLToPath(new URL('../../../fixtures/savedmodel-onnx/', import.meta.url));
const TFJS = join(SHARED, 'tfjs-node');

interface Recorded {
  readonly dtype: string;
  readonly dims: number[];
  readonly values: (number | boolean)[];
}
const EXPECTED = JSON.parse(readFileSync(join(MADE, 'expected.json'), 'utf8')) as Record<
  string,
  { serving_default: { inputs: Record<string, Recorded>; outputs: Record<string, Recorded> } }
>;

/** TF Serving's layout: <m>/<zero-padded version>/saved_model.pb + variables/ (each linked). */
function tfServingModel(root: string, name: string, source: string, version = '00000123') {
  const dir = join(root, name, version);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(source)) symlinkSync(join(source, entry), join(dir, entry));
}
/** Triton's layout: <m>/<v>/model.savedmodel/ (a link to the SavedModel folder). */
function tritonModel(root: string, name: string, source: string) {
  mkdirSync(join(root, name, '1'), { recursive: true });
  symlinkSync(source, join(root, name, '1', 'model.savedmodel'));
}

const TFJS_MODELS = [
  'times_three_float',
  'times_two_int',
  'uint8_multiply',
  'int64_multiply',
  'module_with_multiple_signatures',
  'model_single_input_multi_output',
  'model_multi_output',
];

let root: string;
let cacheDir: string;
let t: TestServer;

function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-'));
  tfServingModel(dir, 'hpt1', join(SHARED, 'saved_model_half_plus_two_cpu/00000123'));
  tritonModel(dir, 'hpt2', join(SHARED, 'saved_model_half_plus_two_tf2_cpu/00000123'));
  tfServingModel(dir, 'counter', join(SHARED, 'saved_model_counter/00000123'));
  for (const m of TFJS_MODELS) tritonModel(dir, m, join(TFJS, m));
  for (const m of Object.keys(EXPECTED)) tritonModel(dir, m, join(MADE, m));
  // hpt1 batches: concurrent requests share one execution
  writeFileSync(join(dir, 'hpt1', 'config.yaml'), 'dynamic_batching: { max_queue_delay_us: 100000 }\n');
  // its inputs' unknown first dimensions are not one batch dimension (x is [2,3,4], ids [3])
  writeFileSync(join(dir, 'tf_module_ops', 'config.yaml'), 'max_batch_size: 0\n');
  return dir;
}

interface GrpcReply {
  model_name: string;
  model_version: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

/** One inference over REST (JSON) and the same over gRPC (raw contents); both answers by output name. */
async function inferBoth(
  model: string,
  inputs: Record<string, { datatype: string; shape: number[]; data: (number | boolean)[] }>,
): Promise<{
  rest: Record<string, { datatype: string; shape: number[]; values: number[] }>;
  grpc: typeof rest;
}> {
  const list = Object.entries(inputs).map(([name, v]) => ({ name, ...v }));
  const { status, json } = await postJson(`${t.url}/v2/models/${model}/infer`, { inputs: list });
  expect(status, JSON.stringify(json)).toBe(200);
  const rest = Object.fromEntries(
    (json.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[]).map((o) => [
      o.name,
      { datatype: o.datatype, shape: o.shape, values: o.data.map((v) => Number(v)) },
    ]),
  );
  const reply = await t.call<GrpcReply>('ModelInfer', {
    model_name: model,
    inputs: list.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    raw_input_contents: list.map((i) => encodeRaw(i.datatype, i.data)),
  });
  expect(reply.model_name).toBe(model);
  const grpc = Object.fromEntries(
    reply.outputs.map((o, i) => [
      o.name,
      {
        datatype: o.datatype,
        shape: o.shape.map(Number),
        values: decodeRaw(o.datatype, reply.raw_output_contents[i]!),
      },
    ]),
  );
  return { rest, grpc };
}

beforeAll(async () => {
  root = makeRepo();
  cacheDir = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-cache-'));
  t = await startTestServer(root, { cacheDir, repositoryToken: 'a-test-token-of-32-characters-xx' });
}, 60_000);
afterAll(async () => {
  await t?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('ferry serve converts SavedModels to ONNX at load', () => {
  it("publishes each signature's names and dtypes, platform tensorflow_savedmodel", async () => {
    const hpt1 = await getJson(`${t.url}/v2/models/hpt1`);
    expect(hpt1.json).toEqual({
      name: 'hpt1',
      versions: ['123'],
      platform: 'tensorflow_savedmodel',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    });
    const dtypes = await getJson(`${t.url}/v2/models/tf_module_dtypes`);
    expect(dtypes.json.inputs).toEqual(
      expect.arrayContaining([
        { name: 'd', datatype: 'FP64', shape: [-1] },
        { name: 'flag', datatype: 'BOOL', shape: [-1] },
        { name: 'u', datatype: 'UINT8', shape: [-1] },
        { name: 'n', datatype: 'INT64', shape: [-1] },
      ]),
    );
    const meta = await t.call<{ platform: string; inputs: { name: string; datatype: string }[] }>(
      'ModelMetadata',
      { name: 'hpt2__regress_x2_to_y3' },
    );
    expect(meta.platform).toBe('tensorflow_savedmodel');
    expect(meta.inputs).toMatchObject([{ name: 'inputs', datatype: 'FP32' }]);
  });

  it('half_plus_two, TF1 (TF Serving layout) and TF2 (Triton layout): y = 0.5x + 2 over REST and gRPC', async () => {
    const one = await inferBoth('hpt1', { x: { datatype: 'FP32', shape: [3, 1], data: [1, 2, 5] } });
    for (const answer of [one.rest, one.grpc])
      expect(answer.y).toEqual({ datatype: 'FP32', shape: [3, 1], values: [2.5, 3, 4.5] });
    const two = await inferBoth('hpt2', { x: { datatype: 'FP32', shape: [1], data: [5] } });
    for (const answer of [two.rest, two.grpc])
      expect(answer.y).toEqual({ datatype: 'FP32', shape: [1], values: [4.5] });
  });

  it('other signatures are served as <model>__<signature>', async () => {
    for (const model of ['hpt1__regress_x2_to_y3', 'hpt2__regress_x2_to_y3']) {
      const shape = model.startsWith('hpt1') ? [1, 1] : [1];
      const { rest, grpc } = await inferBoth(model, { inputs: { datatype: 'FP32', shape, data: [4] } });
      expect(rest.outputs!.values).toEqual([5]);
      expect(grpc.outputs!.values).toEqual([5]);
    }
    const { rest } = await inferBoth('hpt2__classify_x2_to_y3', {
      inputs: { datatype: 'FP32', shape: [1], data: [2] },
    });
    expect(rest.scores!.values).toEqual([4]);
    const three = await inferBoth('module_with_multiple_signatures', {
      x: { datatype: 'FP32', shape: [], data: [2] },
    });
    const two = await inferBoth('module_with_multiple_signatures__timestwo', {
      x: { datatype: 'FP32', shape: [], data: [2] },
    });
    expect([three.rest.output_0!.values, three.grpc.output_0!.values]).toEqual([[6], [6]]);
    expect([two.rest.output_0!.values, two.grpc.output_0!.values]).toEqual([[4], [4]]);
  });

  it('batches concurrent requests to a converted model, each answered with its own rows', async () => {
    const xs = [1, 2, 3, 4, 5, 6];
    const answers = await Promise.all(
      xs.map((x) =>
        postJson(`${t.url}/v2/models/hpt1/infer`, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [x] }],
        }),
      ),
    );
    expect(answers.map((a) => (a.json.outputs as { data: number[] }[])[0]!.data[0])).toEqual(
      xs.map((x) => 0.5 * x + 2),
    );
  });

  it("tfjs's test models answer what tfjs's own tests expect, over REST and gRPC", async () => {
    const cases: [
      string,
      Record<string, { datatype: string; shape: number[]; data: number[] }>,
      Record<string, number[]>,
    ][] = [
      ['times_three_float', { x: { datatype: 'FP32', shape: [], data: [3] } }, { output_0: [9] }],
      ['times_two_int', { x: { datatype: 'INT32', shape: [], data: [3] } }, { output_0: [6] }],
      ['uint8_multiply', { x: { datatype: 'UINT8', shape: [1], data: [3] } }, { output_0: [18] }],
      ['int64_multiply', { x: { datatype: 'INT64', shape: [2], data: [3, 4] } }, { output_0: [18, 24] }],
      [
        'model_single_input_multi_output',
        { x: { datatype: 'INT32', shape: [], data: [5] } },
        { output_0: [10], output_1: [5] },
      ],
      [
        'model_multi_output',
        { x: { datatype: 'INT32', shape: [], data: [7] }, y: { datatype: 'INT32', shape: [], data: [9] } },
        { output_0: [14], output_1: [9] },
      ],
    ];
    for (const [model, inputs, want] of cases) {
      const { rest, grpc } = await inferBoth(model, inputs);
      for (const [name, values] of Object.entries(want)) {
        expect(rest[name]!.values, `${model} ${name} REST`).toEqual(values);
        expect(grpc[name]!.values, `${model} ${name} gRPC`).toEqual(values);
      }
    }
  });

  it("saved_model_counter's get_counter (no inputs) reads the frozen variable", async () => {
    const { rest, grpc } = await inferBoth('counter__get_counter', {});
    expect(rest.output!.values).toEqual([0]);
    expect(grpc.output!.values).toEqual([0]);
  });

  for (const [model, { serving_default: sig }] of Object.entries(EXPECTED)) {
    it(`${model}: REST and gRPC answer what TensorFlow answered`, async () => {
      const inputs = Object.fromEntries(
        Object.entries(sig.inputs).map(([k, v]) => [
          k,
          { datatype: PROTOCOL_DATATYPE[v.dtype]!, shape: v.dims, data: v.values },
        ]),
      );
      const { rest, grpc } = await inferBoth(model, inputs);
      for (const [name, want] of Object.entries(sig.outputs)) {
        const datatype = PROTOCOL_DATATYPE[want.dtype]!;
        const values = want.values.map(Number);
        for (const [protocol, answer] of [
          ['REST', rest],
          ['gRPC', grpc],
        ] as const) {
          expect(answer[name], `${protocol} ${name}`).toBeDefined();
          expect(answer[name]!.datatype, `${protocol} ${name}`).toBe(datatype);
          expect(answer[name]!.shape, `${protocol} ${name}`).toEqual(want.dims);
          expect(
            sameValues(datatype, answer[name]!.values, values),
            `${protocol} ${name}: ${answer[name]!.values} vs ${values}`,
          ).toBe(true);
        }
      }
    });
  }

  it('signatures that cannot convert are skipped with their reason, and the others serve', async () => {
    const response = await fetch(`${t.url}/v2/repository/index`, {
      method: 'POST',
      headers: { authorization: 'Bearer a-test-token-of-32-characters-xx' },
    });
    const index = (await response.json()) as {
      name: string;
      state: string;
      reason: string;
      version?: string;
    }[];
    const byName = new Map(index.map((e) => [e.name, e]));
    expect(byName.get('hpt1__classify_x_to_y')).toMatchObject({ state: 'UNAVAILABLE' });
    expect(byName.get('hpt1__classify_x_to_y')!.reason).toMatch(
      /^skipped: .*DT_STRING inputs are not supported/,
    );
    expect(byName.get('counter__incr_counter')!.reason).toMatch(/op AssignAdd .* has no ONNX conversion/);
    expect(byName.get('counter__get_counter')).toMatchObject({ state: 'READY', version: '123' });
    expect(byName.get('hpt2')).toMatchObject({ state: 'READY' });
    // the counter has no serving_default: no model is served under its bare name
    expect(byName.has('counter')).toBe(false);
    expect((await postJson(`${t.url}/v2/models/hpt1__classify_x_to_y/infer`, { inputs: [] })).status).toBe(
      404,
    );
  });
});

describe('the conversion cache', () => {
  const entries = () =>
    new Map(
      readdirSync(cacheDir)
        .filter((f) => f.endsWith('.onnx'))
        .map((f) => [f, statSync(join(cacheDir, f)).mtimeMs]),
    );

  it('a second server reuses every entry, rebuilds a corrupted one, and answers the same', async () => {
    const before = entries();
    expect(before.size).toBeGreaterThan(10);
    // find hpt1's entry by its record, then corrupt its ONNX bytes (same size, so only the hash can tell)
    const record = readdirSync(cacheDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({
        f,
        r: JSON.parse(readFileSync(join(cacheDir, f), 'utf8')) as { source: string; entry: string },
      }))
      .find(({ r }) => r.source.endsWith(join('hpt1', '00000123')) && r.entry === 'serving_default')!;
    const onnx = record.f.replace(/\.json$/, '.onnx');
    const bytes = readFileSync(join(cacheDir, onnx));
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(join(cacheDir, onnx), bytes);
    const corruptedAt = statSync(join(cacheDir, onnx)).mtimeMs;
    // and an entry whose record is cut short
    const other = [...before.keys()].find((f) => f !== onnx)!;
    writeFileSync(join(cacheDir, other.replace(/\.onnx$/, '.json')), '{"key":');

    const second = await startTestServer(root, { cacheDir });
    try {
      const after = entries();
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [f, mtime] of after) {
        if (f === onnx) expect(mtime).not.toBe(corruptedAt);
        else if (f === other) expect(mtime).not.toBe(before.get(f));
        else expect(mtime, `${f} was rewritten`).toBe(before.get(f));
      }
      const { json } = await postJson(`http://127.0.0.1:${second.server.httpPort}/v2/models/hpt1/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 1], data: [2, 4] }],
      });
      expect((json.outputs as { data: number[] }[])[0]!.data).toEqual([3, 4]);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('refuses a cache folder others can write to', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-one-'));
    const shared = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-shared-'));
    try {
      tritonModel(repo, 'times3', join(TFJS, 'times_three_float'));
      await chmod(shared, 0o777);
      const error = await startTestServer(repo, { cacheDir: shared, grpcPort: null }).catch(
        (e: unknown) => e,
      );
      expect(isServeError(error) && error.code).toBe('FERRY_SERVE_CACHE');
      expect((error as Error).message).toMatch(/writable by group or others \(mode 777\)/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

describe('ferry serve SAVEDMODEL_DIR', () => {
  it("serves one SavedModel folder, named after its model folder when it is TF Serving's version folder", async () => {
    const one = await startTestServer(join(SHARED, 'saved_model_half_plus_two_tf2_cpu/00000123'), {
      cacheDir,
      grpcPort: null,
    });
    try {
      const url = `http://127.0.0.1:${one.server.httpPort}`;
      const meta = await getJson(`${url}/v2/models/saved_model_half_plus_two_tf2_cpu`);
      expect(meta.json).toMatchObject({ versions: ['1'], platform: 'tensorflow_savedmodel' });
      const { json } = await postJson(
        `${url}/v2/models/saved_model_half_plus_two_tf2_cpu__regress_x2_to_y3/infer`,
        {
          inputs: [{ name: 'inputs', datatype: 'FP32', shape: [1], data: [6] }],
        },
      );
      expect((json.outputs as { data: number[] }[])[0]!.data).toEqual([6]);
    } finally {
      await one.close();
    }
  });
});

describe('SavedModel names in the repository', () => {
  const SERVE_FIXTURES = fileURLToPath(new URL('../../../fixtures/serve/', import.meta.url));

  it('explicit control loads one signature by its served name', async () => {
    const s = await startTestServer(root, {
      cacheDir,
      grpcPort: null,
      modelControl: 'explicit',
      loadModels: ['hpt2__regress_x2_to_y3'],
    });
    try {
      const url = `http://127.0.0.1:${s.server.httpPort}`;
      expect(s.server.repository.all().map((v) => v.model)).toEqual(['hpt2__regress_x2_to_y3']);
      const { json } = await postJson(`${url}/v2/models/hpt2__regress_x2_to_y3/infer`, {
        inputs: [{ name: 'inputs', datatype: 'FP32', shape: [1], data: [2] }],
      });
      expect((json.outputs as { data: number[] }[])[0]!.data).toEqual([4]);
    } finally {
      await s.close();
    }
  });

  it('a signature whose served name is already a model folder is skipped; two folders of one version number are refused', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-names-'));
    try {
      tritonModel(repo, 'hpt2', join(SHARED, 'saved_model_half_plus_two_tf2_cpu/00000123'));
      mkdirSync(join(repo, 'hpt2__regress_x2_to_y3', '1'), { recursive: true });
      symlinkSync(
        join(SERVE_FIXTURES, 'mlp/1/model.onnx'),
        join(repo, 'hpt2__regress_x2_to_y3', '1', 'model.onnx'),
      );
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
      const s = await startTestServer(repo, { cacheDir, grpcPort: null, logger });
      try {
        // the folder keeps its name and model; the signature that would take it is skipped, with a log line
        expect(s.server.repository.resolve('hpt2__regress_x2_to_y3').platform).toBe('onnx_onnxv1');
        expect(s.server.repository.resolve('hpt2').platform).toBe('tensorflow_savedmodel');
        expect(lines.map((l) => JSON.parse(l).msg)).toContain(
          'skipped hpt2__regress_x2_to_y3: a model folder is already named hpt2__regress_x2_to_y3',
        );
      } finally {
        await s.close();
      }
      tfServingModel(repo, 'dup', join(SHARED, 'saved_model_half_plus_two_cpu/00000123'), '123');
      tfServingModel(repo, 'dup', join(SHARED, 'saved_model_half_plus_two_cpu/00000123'), '0123');
      const error = await startTestServer(repo, { cacheDir, grpcPort: null }).catch((e: unknown) => e);
      expect(isServeError(error) && error.code).toBe('FERRY_SERVE_REPOSITORY');
      expect((error as Error).message).toMatch(
        /version folders (0123 and 123|123 and 0123) are both version 123/,
      );
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('polling a repository of SavedModels', () => {
  it('a new version folder reloads every signature of the model; removing it goes back', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ferry-serve-sm-poll-'));
    try {
      tfServingModel(repo, 'hpt', join(SHARED, 'saved_model_half_plus_two_cpu/00000123'), '1');
      const s = await startTestServer(repo, {
        cacheDir,
        grpcPort: null,
        modelControl: 'poll',
        pollIntervalMs: 3_600_000,
      });
      try {
        const repository = s.server.repository;
        expect(repository.resolve('hpt').inputs[0]!.shape).toEqual([-1, 1]);
        expect(repository.resolve('hpt__regress_x2_to_y3').version).toBe('1');
        // version 2 is the TF2 export: its signatures take shape [1]
        mkdirSync(join(repo, 'hpt', '2'));
        symlinkSync(
          join(SHARED, 'saved_model_half_plus_two_tf2_cpu/00000123'),
          join(repo, 'hpt', '2', 'model.savedmodel'),
        );
        await repository.poll();
        expect(repository.resolve('hpt').version).toBe('2');
        expect(repository.resolve('hpt').inputs[0]!.shape).toEqual([1]);
        expect(repository.resolve('hpt__regress_x2_to_y3').version).toBe('2');
        rmSync(join(repo, 'hpt', '2'), { recursive: true });
        await repository.poll();
        expect(repository.resolve('hpt').version).toBe('1');
        expect(repository.resolve('hpt__regress_x2_to_y3').version).toBe('1');
      } finally {
        await s.close();
      }
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
