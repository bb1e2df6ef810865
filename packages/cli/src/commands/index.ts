import type { CommandEntry } from '../command.js';

/**
 * Every command, in the order `ferry --help` lists them: a name, the one-line summary the list
 * shows, and a loader. A command's module (and the packages it imports: ONNX Runtime, fastify,
 * TypeScript...) loads only when that command runs, so `ferry --help` and `ferry inspect` do not
 * pay for `ferry serve` (issue #23). The summary repeats the command's own; commands.test.ts
 * checks that they agree.
 */
export const COMMANDS: readonly CommandEntry[] = [
  // read, check and convert model files
  {
    name: 'inspect',
    summary: 'show what a model file or folder holds, without running anything in it',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  {
    name: 'scan',
    summary:
      'check model files for code that would run on load (pickle, PyTorch, joblib...), running nothing; exit 1 unsafe, 2 invalid or unreadable',
    load: async () => (await import('./scan.js')).scanCommand,
  },
  {
    name: 'convert',
    summary:
      'convert a model to safetensors, streaming tensor by tensor (the output appears whole or not at all)',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  {
    name: 'diff',
    summary: 'compare the tensors of two models of any formats, matched by name (exit 1 when different)',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  {
    name: 'optimize',
    summary: "apply onnxruntime's graph optimizations to an ONNX model offline and save the result",
    load: async () => (await import('./optimize.js')).optimizeCommand,
  },
  {
    name: 'quantize',
    summary: 'int8-quantize an ONNX model (dynamic, or static with --calibrate), as onnxruntime does',
    load: async () => (await import('./quantize.js')).quantizeCommand,
  },

  // serve, deploy, and everything at once
  {
    name: 'serve',
    summary: 'serve models over the Open Inference Protocol v2 (REST + gRPC) with dynamic batching',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'deploy',
    summary: 'deploy models:/NAME@ALIAS (servers follow the alias), list or remove deployments',
    load: async () => (await import('./deploy.js')).deployCommand,
  },
  {
    name: 'up',
    summary:
      'run the registry and the inference server in one process (with --demo: a model to call at once)',
    load: async () => (await import('./up.js')).upCommand,
  },

  // registry, push, pull, models, alias, runs, lineage; login, whoami, logout, tokens
  {
    name: 'registry',
    summary: 'run the model registry server',
    load: async () => (await import('./registry.js')).registryCommand,
  },
  {
    name: 'push',
    summary: 'upload a model to the registry as a new version, or a bundle to an OCI registry',
    load: async () => (await import('./push.js')).pushCommand,
  },
  {
    name: 'pull',
    summary:
      'download a model version from the registry, or a bundle from an OCI registry (verified by sha256)',
    load: async () => (await import('./pull.js')).pullCommand,
  },
  {
    name: 'models',
    summary: 'list, show or delete models in the registry',
    load: async () => (await import('./models.js')).modelsCommand,
  },
  {
    name: 'alias',
    summary: 'point an alias at a model version, or remove it',
    load: async () => (await import('./alias.js')).aliasCommand,
  },
  {
    name: 'runs',
    summary: 'record and list training runs: params, metrics, input datasets',
    load: async () => (await import('./runs.js')).runsCommand,
  },
  {
    name: 'lineage',
    summary: 'show where a model version came from and what was made from it',
    load: async () => (await import('./lineage.js')).lineageCommand,
  },
  {
    name: 'login',
    summary: 'check an API token against the registry and save it for later commands',
    load: async () => (await import('./login.js')).loginCommand,
  },
  {
    name: 'whoami',
    summary: 'show who the registry takes the token for, and its scopes',
    load: async () => (await import('./whoami.js')).whoamiCommand,
  },
  {
    name: 'logout',
    summary: 'forget the token ferry login saved for a registry',
    load: async () => (await import('./logout.js')).logoutCommand,
  },
  {
    name: 'tokens',
    summary: 'create, list or revoke API tokens (admin)',
    load: async () => (await import('./tokens.js')).tokensCommand,
  },
  {
    name: 'cache',
    summary: 'list or prune the chunk cache ferry pull keeps (only chunks not cached are fetched)',
    load: async () => (await import('./cache.js')).cacheCommand,
  },

  // bundle: pack, keygen, sign, verify, unpack, containerize
  {
    name: 'pack',
    summary:
      'pack a ferry.yaml project into one reproducible bundle (models scanned, registry models pinned and packed, dependencies installed)',
    load: async () => (await import('./pack.js')).packCommand,
  },
  {
    name: 'keygen',
    summary: 'make an Ed25519 key pair for signing bundles (PREFIX.key, mode 0600, and PREFIX.pub)',
    load: async () => (await import('./keygen.js')).keygenCommand,
  },
  {
    name: 'sign',
    summary: 'sign a bundle with an Ed25519 key (DSSE + in-toto, OpenSSF model-signing v1.0 shape)',
    load: async () => (await import('./sign.js')).signCommand,
  },
  {
    name: 'verify',
    summary: "check a bundle's signature and every file's digest (names what changed)",
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  {
    name: 'unpack',
    summary: 'extract a bundle safely into a new folder (digests checked; links, devices and slips refused)',
    load: async () => (await import('./unpack.js')).unpackCommand,
  },
  {
    name: 'containerize',
    summary:
      'write a Dockerfile, Kubernetes manifests (Deployment, Service, HPA) and a KServe InferenceService for a bundle',
    load: async () => (await import('./containerize.js')).containerizeCommand,
  },

  // the shell
  {
    name: 'completion',
    summary: 'print a shell completion script: bash, zsh or fish',
    load: async () => (await import('./completion.js')).completionCommand,
  },
];
