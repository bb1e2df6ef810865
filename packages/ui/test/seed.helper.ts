import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertFileToFloat16 } from '@ferry/optimize';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';

const fixture = (path: string) => fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url));

/** A model card with markup a renderer must not execute: a script tag, a javascript: link, raw HTML. */
export const CARD = `---
license: apache-2.0
tags: [vision]
---
# MNIST classifier

A small **MLP** trained on _MNIST_. See [the paper](https://example.org/paper) and \`ferry pull\`.

<script>window.xssFired = true</script>
<img src=x onerror="window.xssFired = true">
[click me](javascript:window.xssFired=true)

| metric | value |
| ------ | ----- |
| accuracy | 0.97 |

- first point
- second point

\`\`\`
ferry pull models:/vision/mnist@prod -o ./mnist
\`\`\`
`;

export interface Seeded {
  readonly server: RegistryServer & { url: string };
  readonly data: string;
  readonly admin: string;
  readonly reader: string;
  readonly writer: string;
  readonly runId: string;
  close(): Promise<void>;
}

/**
 * A real registry on port 0 (SQLite + blob folder in a temp dir, serving `ui`) with real fixture
 * model files pushed through the real API: vision/mnist v1 (ONNX 4-8-3 MLP) and v2 (a wider MLP),
 * a run with a dataset, params and metrics, a derived model (and its float16 conversion), an unsafe pickle, a private model.
 */
export async function seedRegistry(ui: string | false): Promise<Seeded> {
  const data = await mkdtemp(join(tmpdir(), 'ferry-ui-'));
  const server = await startRegistry({
    data,
    port: 0,
    host: '127.0.0.1',
    log: () => undefined,
    webhooks: false,
    ui,
  });
  const admin = server.adminToken!;
  const client = new RegistryClient({ url: server.url, token: admin });
  const reader = (await client.createToken('rita', ['read:*'])).token;
  const writer = (await client.createToken('walt', ['write:vision/*'])).token;

  await client.createModel({
    name: 'vision/mnist',
    description: 'handwritten digits',
    tags: { task: 'classification' },
  });
  await client.setCard('vision/mnist', CARD);
  const run = await client.createRun({
    name: 'train-mnist',
    params: { lr: '0.01', epochs: '5', optimizer: 'adam' },
    inputs: [
      {
        name: 'mnist',
        digest: 'sha256:2c1c5b1f3e7ad4f2f1c0a1d1a5e4b0f7f0e1d2c3b4a5968778695a4b3c2d1e0f',
        source: 's3://data/mnist',
      },
    ],
  });
  await client.logRun(run.id, {
    metrics: [0.9, 0.55, 0.31, 0.2, 0.12].flatMap((loss, step) => [
      { key: 'loss', value: loss, step: step + 1 },
      { key: 'accuracy', value: 0.8 + step * 0.04, step: step + 1 },
    ]),
    status: 'finished',
  });
  await client.push(fixture('onnx/mlp.onnx'), { model: 'vision/mnist', alias: 'prod', runId: run.id });
  await client.push(fixture('optimize/mlp.onnx'), { model: 'vision/mnist' });
  await client.setVersionTag('vision/mnist', 2, 'stage', 'candidate');
  await client.setAlias('vision/mnist', 'stable', 1, true);
  await client.push(fixture('onnx/mlp_metadata.onnx'), {
    model: 'vision/mnist-small',
    derivedFrom: ['models:/vision/mnist/1'],
  });
  // v2 of the derived model: the same MLP converted to float16 by @ferry/optimize (values rounded).
  const fp16 = join(data, 'mlp-fp16.onnx');
  await convertFileToFloat16(fixture('onnx/mlp.onnx'), fp16);
  await client.push(fp16, { model: 'vision/mnist-small', derivedFrom: ['models:/vision/mnist/1'] });
  await client.push(fixture('pickle/corpus/inst_exec.pkl'), { model: 'lab/suspicious' });
  await client.push(fixture('safetensors/small.safetensors'), {
    model: 'team/secret',
    visibility: 'private',
  });

  return {
    server,
    data,
    admin,
    reader,
    writer,
    runId: run.id,
    async close() {
      await server.close();
      await rm(data, { recursive: true, force: true });
    },
  };
}

/** The deployed model of the deployment journey: fixtures/deploy's classifier, two trainings of it. */
export const DEPLOYED = { model: 'tabular/classifier', deployment: 'tabular-classifier' } as const;

/**
 * Pushes fixtures/deploy's v1 and v2 (two torch trainings of one classifier, 15 and 60 epochs,
 * exported to ONNX: same input, different answers) as tabular/classifier, points `prod` at version 1 and
 * creates the deployment tabular-classifier following models:/tabular/classifier@prod.
 */
export async function seedDeployment(client: RegistryClient): Promise<void> {
  await client.createModel({ name: DEPLOYED.model, description: 'served, following prod' });
  for (const v of ['v1', 'v2']) await client.push(fixture(`deploy/${v}`), { model: DEPLOYED.model });
  await client.setAlias(DEPLOYED.model, 'prod', 1);
  await client.putDeployment(DEPLOYED.deployment, { model: DEPLOYED.model, alias: 'prod' });
}
