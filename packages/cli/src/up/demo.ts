import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '@ferry/formats';
import type { RegistryClient } from '@ferry/registry-client';

export const DEMO_MODEL = 'demo/classifier';
export const DEMO_DEPLOYMENT = 'demo-classifier';

interface Training {
  params: Record<string, string>;
  metrics: { step: number; loss: number; accuracy: number }[];
}
interface Expected {
  input: { name: string; shape: number[]; data: number[] };
  outputs: Record<string, { name: string; shape: number[]; data: number[] }>;
  training: Record<'v1' | 'v2', Training>;
}

/** fixtures/deploy in the repository this CLI runs from (src/ under vitest, dist/ when built). */
export function demoFixtures(): string {
  for (const up of ['../../../../fixtures/deploy/', '../../../fixtures/deploy/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'expected.json'))) return dir;
  }
  throw new Error('fixtures/deploy is missing: ferry up --demo runs from a ferry checkout');
}

export interface DemoResult {
  readonly model: string;
  readonly deployment: string;
  readonly prod: number;
  readonly candidate: number;
  /** A request body that works against the demo deployment, and what version 1 answers. */
  readonly request: unknown;
}

/**
 * Registers the demo: the dataset the classifier was trained on, two training runs (params and
 * per-epoch metrics as torch logged them: fixtures/make/deploy_models.py), a version from each
 * (lineage dataset -> run -> version), alias prod on version 1, and a deployment following it.
 * Version 2, the longer run, is there to promote: `ferry alias set demo/classifier prod 2`.
 */
export async function registerDemo(client: RegistryClient): Promise<DemoResult> {
  const dir = demoFixtures();
  const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Expected;
  const digest = await sha256File(join(dir, 'dataset.csv'));
  await client.createModel({
    name: DEMO_MODEL,
    description: 'A 4-feature, 3-class classifier (torch, exported to ONNX): the ferry up demo',
    visibility: 'public',
    tags: { task: 'classification', framework: 'pytorch' },
  });
  await client.setCard(
    DEMO_MODEL,
    [
      '---',
      'license: apache-2.0',
      'pipeline_tag: tabular-classification',
      '---',
      '# demo/classifier',
      '',
      'Linear(4, 16) -> ReLU -> Linear(16, 3), trained with SGD on 150 rows of three Gaussian',
      'blobs (`fixtures/deploy/dataset.csv`). Input `x`: FP32 `[batch, 4]`; output `scores`: FP32',
      '`[batch, 3]` (one logit per class). Made by `fixtures/make/deploy_models.py`.',
      '',
    ].join('\n'),
  );
  const versions: number[] = [];
  for (const v of ['v1', 'v2'] as const) {
    const training = expected.training[v];
    const run = await client.createRun({
      name: `train-classifier-${v}`,
      params: training.params,
      inputs: [{ name: 'blobs-150', digest, source: 'fixtures/deploy/dataset.csv' }],
    });
    await client.logRun(run.id, {
      metrics: training.metrics.flatMap((m) => [
        { key: 'loss', value: m.loss, step: m.step },
        { key: 'accuracy', value: m.accuracy, step: m.step },
      ]),
      status: 'finished',
    });
    const pushed = await client.push(join(dir, v), {
      model: DEMO_MODEL,
      runId: run.id,
      description: `trained ${training.params.epochs} epochs (lr ${training.params.lr})`,
    });
    versions.push(pushed.version);
  }
  await client.setAlias(DEMO_MODEL, 'prod', versions[0]!);
  await client.putDeployment(DEMO_DEPLOYMENT, { model: DEMO_MODEL, alias: 'prod' });
  return {
    model: DEMO_MODEL,
    deployment: DEMO_DEPLOYMENT,
    prod: versions[0]!,
    candidate: versions[1]!,
    request: {
      inputs: [
        {
          name: expected.input.name,
          datatype: 'FP32',
          shape: [1, 4],
          data: expected.input.data.slice(0, 4),
        },
      ],
    },
  };
}
