import { containerizeBundle, DEFAULT_FERRY_IMAGE, FERRY_IMAGE_BUILD } from '@ferry/bundle';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { pathOption, positiveInteger, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

/** Five digits, as before: more replicas than a Kubernetes cluster schedules is a typo. */
const MAX_REPLICAS = 99_999;

export const containerizeCommand: Command = {
  name: 'containerize',
  summary:
    'write a Dockerfile, Kubernetes manifests (Deployment, Service, HPA) and a KServe InferenceService for a bundle',
  usage:
    'containerize BUNDLE -o DIR [--image IMAGE] [--base IMAGE] [--pub PUB] [--replicas N] [--max-replicas N] [--cpu C] [--memory M] [--json]',
  options: {
    output: {
      type: 'string',
      short: 'o',
      valueName: 'DIR',
      description: 'folder to write (must not exist or be empty)',
    },
    image: {
      type: 'string',
      valueName: 'IMAGE',
      description: 'image the manifests run (default NAME:VERSION)',
    },
    base: {
      type: 'string',
      valueName: 'IMAGE',
      description: `ferry runtime image to build on (default ${DEFAULT_FERRY_IMAGE})`,
    },
    pub: {
      type: 'string',
      valueName: 'PUB',
      description: 'verify now, ship the signature and key, serve with --require-signature',
    },
    signature: { type: 'string', valueName: 'SIG', description: 'signature file (default BUNDLE.sig)' },
    replicas: {
      type: 'string',
      valueName: 'N',
      description: 'replicas, and the autoscaler minimum (default 2)',
    },
    'max-replicas': { type: 'string', valueName: 'N', description: 'autoscaler maximum (default 10)' },
    cpu: { type: 'string', valueName: 'C', description: 'CPU request per replica (default 1)' },
    memory: {
      type: 'string',
      valueName: 'M',
      description: 'memory per replica (default: from the bundle size)',
    },
  },
  async run(args, io) {
    const [bundle, ...rest] = args.positionals;
    if (!bundle || rest.length > 0) throw new UsageError('containerize takes one BUNDLE');
    const v = args.values;
    const out = pathOption(v, 'output');
    if (!out) throw new UsageError('containerize needs -o DIR');
    const replicas = positiveInteger(v, 'replicas', MAX_REPLICAS);
    const maxReplicas = positiveInteger(v, 'max-replicas', MAX_REPLICAS);
    const image = stringOption(v, 'image');
    const base = stringOption(v, 'base');
    const publicKey = pathOption(v, 'pub');
    const signature = pathOption(v, 'signature');
    const cpu = stringOption(v, 'cpu');
    const memory = stringOption(v, 'memory');
    const result = await containerizeBundle(bundle, out, {
      ...(image !== undefined && { image }),
      ...(base !== undefined && { base }),
      ...(publicKey !== undefined && { publicKey }),
      ...(signature !== undefined && { signature }),
      ...(replicas !== undefined && { replicas }),
      ...(maxReplicas !== undefined && { maxReplicas }),
      ...(cpu !== undefined && { cpu }),
      ...(memory !== undefined && { memory }),
    });
    if (args.values.json) printJson(io, result);
    else {
      io.stdout.write(`wrote ${result.path}\n${result.files.map((f) => `  ${f}\n`).join('')}`);
      io.stdout.write(
        `next: docker build -t ${result.image} ${result.path} && kubectl apply -f ${result.path}/k8s\n`,
      );
      // the default base is not on any registry: say how to make it, once, before the first build
      if (result.base === DEFAULT_FERRY_IMAGE)
        io.stdout.write(`base: ${DEFAULT_FERRY_IMAGE} is built from a ferry clone: ${FERRY_IMAGE_BUILD}\n`);
    }
    return 0;
  },
};
