import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { packBundle } from '../../src/pack/pack.js';
import { FIXTURE_PROJECT } from '../test-project.helper.js';
import { generateKeyFiles } from '../../src/sign/keys.js';
import { signBundle } from '../../src/sign/sign.js';
import { containerizeBundle } from '../../src/containerize/containerize.js';

let dir: string;
let bundle: string;
let keys: { privateKey: string; publicKey: string };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-containerize-'));
  bundle = (await packBundle(FIXTURE_PROJECT, { output: join(dir, 'sentiment.ferry') })).path;
  keys = await generateKeyFiles(join(dir, 'k'));
  await signBundle(bundle, keys.privateKey);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(path: string) {
  const docs = parseAllDocuments(await readFile(path, 'utf8'));
  expect(docs).toHaveLength(1);
  expect((docs as { errors: unknown[] }[])[0]!.errors).toEqual([]);
  return parseYaml(await readFile(path, 'utf8'));
}

/** Dockerfile instructions, with line continuations joined. */
function instructions(text: string): [string, string][] {
  return text
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [word, ...rest] = l.split(' ');
      return [word!, rest.join(' ')];
    });
}

describe('ferry containerize', () => {
  it('writes a build context that serves the signed bundle as a non-root user with a readiness healthcheck', async () => {
    const out = join(dir, 'signed');
    const result = await containerizeBundle(bundle, out, {
      publicKey: keys.publicKey,
      image: 'registry.example/sentiment:1.0.0',
    });
    expect(result.files).toEqual([
      '.dockerignore',
      'Dockerfile',
      'bundle/ferry.pub',
      'bundle/sentiment-1.0.0.ferry',
      'bundle/sentiment-1.0.0.ferry.sig',
      'k8s/deployment.yaml',
      'k8s/hpa.yaml',
      'k8s/service.yaml',
      'kserve/inferenceservice.yaml',
    ]);
    expect(await readFile(join(out, 'bundle/sentiment-1.0.0.ferry'))).toEqual(await readFile(bundle));
    const steps = instructions(await readFile(join(out, 'Dockerfile'), 'utf8'));
    const get = (word: string) => steps.filter(([w]) => w === word).map(([, rest]) => rest);
    expect(get('ARG')).toEqual(['FERRY_IMAGE=ferry:0.1.0']);
    expect(get('FROM')).toEqual(['\u0024{FERRY_IMAGE}']);
    expect(get('USER')).toEqual(['10001:10001']);
    expect(get('COPY')).toEqual(['--chown=0:0 bundle/ /srv/ferry/bundle/']);
    expect(get('EXPOSE')).toEqual(['8000 8001']);
    expect(get('LABEL')[0]).toMatch(
      /org\.opencontainers\.image\.title="sentiment" .*org\.opencontainers\.image\.licenses="Apache-2\.0" dev\.ferry\.bundle\.sha256="[0-9a-f]{64}"/,
    );
    const health = get('HEALTHCHECK')[0]!;
    expect(health).toMatch(/^--interval=10s --timeout=3s --start-period=60s --retries=3 CMD /);
    const healthCmd = JSON.parse(health.slice(health.indexOf('CMD ') + 4));
    expect(healthCmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(healthCmd[2]).toContain("fetch('http://127.0.0.1:8000/v2/health/ready')");
    expect(JSON.parse(get('ENTRYPOINT')[0]!)).toEqual(['ferry', 'serve']);
    const args = JSON.parse(get('CMD')[0]!);
    expect(args).toEqual([
      '/srv/ferry/bundle/sentiment-1.0.0.ferry',
      '--host',
      '0.0.0.0',
      '--http-port',
      '8000',
      '--grpc-port',
      '8001',
      '--require-signature',
      '--pub',
      '/srv/ferry/bundle/ferry.pub',
      '--signature',
      '/srv/ferry/bundle/sentiment-1.0.0.ferry.sig',
    ]);
    expect(await readFile(join(out, '.dockerignore'), 'utf8')).toBe('*\n!bundle/\n');

    const deployment = await yamlFile(join(out, 'k8s/deployment.yaml'));
    expect(deployment).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sentiment' },
      spec: { replicas: 2 },
    });
    expect(deployment.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'sentiment',
      'app.kubernetes.io/component': 'inference',
    });
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels))
      expect(deployment.spec.template.metadata.labels[key]).toBe(value);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe('registry.example/sentiment:1.0.0');
    expect(container.args).toEqual(args);
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8000, protocol: 'TCP' },
      { name: 'grpc', containerPort: 8001, protocol: 'TCP' },
    ]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(container.startupProbe.httpGet.path).toBe('/v2/health/live');
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(deployment.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(container.resources.requests.memory).toMatch(/^\d+Mi$/);

    const svc = await yamlFile(join(out, 'k8s/service.yaml'));
    expect(svc).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      spec: { type: 'ClusterIP', selector: deployment.spec.selector.matchLabels },
    });
    expect(
      svc.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [
        p.name,
        p.port,
        p.targetPort,
      ]),
    ).toEqual([
      ['http', 8000, 'http'],
      ['grpc', 8001, 'grpc'],
    ]);

    const hpa = await yamlFile(join(out, 'k8s/hpa.yaml'));
    expect(hpa).toMatchObject({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sentiment' },
        minReplicas: 2,
        maxReplicas: 10,
      },
    });
    expect(hpa.spec.metrics[0].resource).toEqual({
      name: 'cpu',
      target: { type: 'Utilization', averageUtilization: 70 },
    });

    const isvc = await yamlFile(join(out, 'kserve/inferenceservice.yaml'));
    expect(isvc).toMatchObject({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'sentiment' },
    });
    const predictor = isvc.spec.predictor;
    expect(predictor).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(predictor.containers).toHaveLength(1);
    expect(predictor.containers[0]).toMatchObject({
      name: 'kserve-container',
      image: 'registry.example/sentiment:1.0.0',
      args,
    });
    expect(predictor.containers[0].ports).toEqual([{ containerPort: 8000, protocol: 'TCP' }]);
    expect(predictor.containers[0].readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 8000 });
  });

  it('serves without signature flags when no key is given, and honours the scaling options', async () => {
    const out = join(dir, 'plain');
    const result = await containerizeBundle(bundle, out, {
      replicas: 3,
      maxReplicas: 7,
      memory: '2Gi',
      cpu: '500m',
    });
    expect(result.image).toBe('sentiment:1.0.0');
    expect(await readdir(join(out, 'bundle'))).toEqual(['sentiment-1.0.0.ferry']);
    const deployment = await yamlFile(join(out, 'k8s/deployment.yaml'));
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].args).not.toContain('--require-signature');
    expect(deployment.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '2Gi' },
      limits: { memory: '2Gi' },
    });
    const hpa = await yamlFile(join(out, 'k8s/hpa.yaml'));
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 7 });
  });

  it('refuses a bundle whose signature fails and a folder that is not empty', async () => {
    const other = await generateKeyFiles(join(dir, 'other'));
    await expect(
      containerizeBundle(bundle, join(dir, 'x'), { publicKey: other.publicKey }),
    ).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_SIGNATURE',
    });
    await expect(containerizeBundle(bundle, join(dir, 'signed'))).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_OUTPUT',
    });
    await expect(containerizeBundle(bundle, join(dir, 'y'), { replicas: 0 })).rejects.toThrow(
      /replicas must be an integer of at least 1/,
    );
  });
});
