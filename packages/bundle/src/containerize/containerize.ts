import { sha256File } from '@ferry/formats';
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { type OpenedBundle, openBundle, readEntry } from '../archive/read-bundle.js';
import { bundleError } from '../errors.js';
import { MAX_YAML_BYTES } from '../limits.js';
import { parseBundleSpec } from '../manifest/load.js';
import { SPEC_FILE } from '../manifest/schema.js';
import { loadPublicKey } from '../sign/keys.js';
import { defaultSignaturePath } from '../sign/sign.js';
import { verifyBundle } from '../sign/verify.js';
import { dockerfile } from './dockerfile.js';
import { DEFAULT_FERRY_IMAGE } from './runtime-image.js';
import {
  type DeploySettings,
  deployment,
  horizontalPodAutoscaler,
  inferenceService,
  service,
} from './kubernetes.js';

export interface ContainerizeOptions {
  /** The image the manifests run (default NAME:VERSION). */
  readonly image?: string;
  /** The ferry runtime image the Dockerfile builds on. */
  readonly base?: string;
  /** With a public key, the image carries the signature and key and serves with --require-signature. */
  readonly publicKey?: string;
  readonly signature?: string;
  readonly replicas?: number;
  readonly maxReplicas?: number;
  readonly cpu?: string;
  readonly memory?: string;
}

export interface ContainerizeResult {
  readonly path: string;
  readonly image: string;
  /** The ferry runtime image the Dockerfile starts FROM (docker/Dockerfile in a ferry clone builds it). */
  readonly base: string;
  readonly files: readonly string[];
}

/** An unprivileged uid outside the range distributions give to system and first users. */
const UID = 10001;
const HTTP_PORT = 8000;
const GRPC_PORT = 8001;
const IN_IMAGE = '/srv/ferry/bundle';

/**
 * Writes a Docker build context (Dockerfile, .dockerignore, bundle/) and deployment manifests
 * (k8s/deployment.yaml, service.yaml, hpa.yaml; kserve/inferenceservice.yaml) for a bundle. The
 * bundle is checked first (and its signature, when a public key is given).
 */
export async function containerizeBundle(
  bundlePath: string,
  out: string,
  options: ContainerizeOptions = {},
): Promise<ContainerizeResult> {
  const bundle = await openBundle(bundlePath);
  const signature = options.signature ?? defaultSignaturePath(bundlePath);
  if (options.publicKey) {
    await loadPublicKey(options.publicKey);
    await verifyBundle(bundlePath, options.publicKey, signature);
  }
  const target = resolve(out);
  const existing = await readdir(target).catch(() => undefined);
  if (existing && existing.length > 0)
    throw bundleError('FERRY_BUNDLE_OUTPUT', {
      path: target,
      rule: 'is not empty; ferry containerize writes only into a new or empty folder',
    });
  const { name, version } = bundle.manifest;
  const replicas = options.replicas ?? 2;
  const maxReplicas = options.maxReplicas ?? Math.max(replicas, 10);
  if (!Number.isInteger(replicas) || replicas < 1 || !Number.isInteger(maxReplicas) || maxReplicas < replicas)
    throw bundleError('FERRY_BUNDLE_OUTPUT', {
      path: target,
      rule: `replicas must be an integer of at least 1 and max replicas at least replicas (got ${replicas}, ${maxReplicas})`,
    });
  const bundleFile = `${name}-${version}.ferry`;
  const args = [
    `${IN_IMAGE}/${bundleFile}`,
    '--host',
    '0.0.0.0',
    '--http-port',
    String(HTTP_PORT),
    '--grpc-port',
    String(GRPC_PORT),
  ];
  if (options.publicKey)
    args.push(
      '--require-signature',
      '--pub',
      `${IN_IMAGE}/ferry.pub`,
      '--signature',
      `${IN_IMAGE}/${bundleFile}.sig`,
    );
  const image = options.image ?? `${name}:${version}`;
  const spec = await readSpecFields(bundle);
  const settings: DeploySettings = {
    name,
    version,
    image,
    args,
    httpPort: HTTP_PORT,
    grpcPort: GRPC_PORT,
    replicas,
    maxReplicas,
    cpu: options.cpu ?? '1',
    memory: options.memory ?? (await defaultMemory(bundlePath)),
    targetCpuPercent: 70,
    uid: UID,
  };

  await mkdir(join(target, 'bundle'), { recursive: true });
  await mkdir(join(target, 'k8s'), { recursive: true });
  await mkdir(join(target, 'kserve'), { recursive: true });
  await copyFile(bundlePath, join(target, 'bundle', bundleFile));
  if (options.publicKey) {
    await copyFile(signature, join(target, 'bundle', `${bundleFile}.sig`));
    await copyFile(options.publicKey, join(target, 'bundle', 'ferry.pub'));
  }
  const base = options.base ?? DEFAULT_FERRY_IMAGE;
  const files: [string, string][] = [
    [
      'Dockerfile',
      dockerfile({
        base,
        image,
        name,
        version,
        ...spec,
        bundleSha256: await sha256File(bundlePath),
        args,
        httpPort: HTTP_PORT,
        grpcPort: GRPC_PORT,
        uid: UID,
      }),
    ],
    ['.dockerignore', '*\n!bundle/\n'],
    ['k8s/deployment.yaml', stringify(deployment(settings))],
    ['k8s/service.yaml', stringify(service(settings))],
    ['k8s/hpa.yaml', stringify(horizontalPodAutoscaler(settings))],
    ['kserve/inferenceservice.yaml', stringify(inferenceService(settings))],
  ];
  for (const [path, text] of files) await writeFile(join(target, path), text);
  return {
    path: target,
    image,
    base,
    files: [
      ...files.map(([p]) => p),
      `bundle/${bundleFile}`,
      ...(options.publicKey ? [`bundle/${bundleFile}.sig`, 'bundle/ferry.pub'] : []),
    ].sort(),
  };
}

/** Description and license for the image labels, from the ferry.yaml packed in the bundle. */
async function readSpecFields(bundle: OpenedBundle): Promise<{ license?: string; description?: string }> {
  const bytes = await readEntry(bundle, SPEC_FILE, MAX_YAML_BYTES);
  if (!bytes)
    throw bundleError('FERRY_BUNDLE_MANIFEST', {
      path: bundle.path,
      rule: `the bundle holds no ${SPEC_FILE}`,
    });
  const spec = parseBundleSpec(Buffer.from(bytes).toString('utf8'), `${bundle.path}:${SPEC_FILE}`);
  return {
    ...(spec.license && { license: spec.license }),
    ...(spec.description && { description: spec.description }),
  };
}

/** Memory for one replica: the bundle unpacked plus the model loaded, with room for the runtime. */
async function defaultMemory(bundlePath: string): Promise<string> {
  const size = (await stat(bundlePath)).size;
  const mib = Math.max(512, Math.ceil((3 * size) / 2 ** 20 / 256) * 256 + 256);
  return `${mib}Mi`;
}
