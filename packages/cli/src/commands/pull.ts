import { pullBundle } from '@ferry/bundle';
import { formatModelUri, isOciReference } from '@ferry/registry-client';
import { refuseOverwrites } from '../pull/refuse-overwrite.js';
import type { Command, ParsedArgs } from '../command.js';
import type { CliIO } from '../io.js';
import { OCI_OPTIONS, ociCredentials } from '../oci-options.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar, transferNote } from '../progress.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { pathOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const pullCommand: Command = {
  name: 'pull',
  summary:
    'download a model version from the registry, or a bundle from an OCI registry (verified by sha256)',
  usage:
    'pull models:/NAME@ALIAS|models:/NAME/VERSION|oci://HOST[:PORT]/REPO[:TAG|@DIGEST] -o DIR [--force] [--allow-unsafe]',
  options: {
    output: { type: 'string', short: 'o', valueName: 'DIR', description: 'folder to download into' },
    force: {
      type: 'boolean',
      description:
        'overwrite files in DIR that differ from the version (without it: refused, nothing written)',
    },
    'allow-unsafe': {
      type: 'boolean',
      description: 'download a version the scan did not show safe (unsafe, error or unknown)',
    },
    ...REGISTRY_OPTIONS,
    pub: {
      type: 'string',
      valueName: 'KEY',
      description:
        'oci://: of several signature referrers, take the one made with this key (else the newest)',
    },
    ...OCI_OPTIONS,
  },
  async run(args, io) {
    const uri = args.positionals[0];
    if (uri !== undefined && isOciReference(uri)) return pullFromOci(args, io);
    if (!uri || args.positionals.length > 1) throw new UsageError('pull takes one models:/ URI');
    const dir = pathOption(args.values, 'output');
    if (!dir) throw new UsageError('pull needs -o DIR');
    const client = await registryClient(args);
    // The version by number from here on: an alias moved meanwhile cannot change what was checked.
    const resolved = await client.resolve(uri);
    const pinned = formatModelUri({ model: resolved.model, version: resolved.version });
    if (args.values.force !== true)
      await refuseOverwrites(dir, (await client.getVersion(resolved.model, resolved.version)).files);
    let bar: ProgressBar | undefined;
    const version = await client.pull(pinned, dir, {
      force: args.values['allow-unsafe'] === true,
      onProgress: (done, total, file, bytes) => {
        bar ??= new ProgressBar(io, 'pull', total);
        bar.update(done, bytes ? `${file} (${transferNote(bytes)})` : file);
      },
    });
    (bar as ProgressBar | undefined)?.finish();
    if (args.values.json) printJson(io, { ...version, directory: dir });
    else {
      const bytes = version.files.reduce((sum, f) => sum + f.size, 0);
      io.stdout.write(
        `pulled ${formatModelUri({ model: version.model, version: version.version })} into ${dir}: ${version.files.length} file(s), ${formatBytes(bytes)}, sha256 verified\n`,
      );
    }
    return 0;
  },
};

async function pullFromOci(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError('pull takes one oci:// reference');
  const dir = pathOption(args.values, 'output');
  if (!dir) throw new UsageError('pull needs -o DIR');
  const publicKey = pathOption(args.values, 'pub');
  const credentials = ociCredentials(args);
  let bar: ProgressBar | undefined;
  const result = await pullBundle(args.positionals[0]!, dir, {
    overwrite: args.values.force === true,
    ...(credentials && { credentials }),
    ...(publicKey !== undefined && { publicKey }),
    onProgress: (done, total, file) => {
      bar ??= new ProgressBar(io, 'pull', total);
      bar.update(done, file);
    },
  });
  (bar as ProgressBar | undefined)?.finish();
  if (args.values.json)
    printJson(io, {
      ...result,
      manifest: undefined,
      name: result.manifest.name,
      version: result.manifest.version,
    });
  else
    io.stdout.write(
      `pulled ${args.positionals[0]} (${result.digest})\n` +
        `  -> ${result.bundle}: ${result.manifest.name} ${result.manifest.version}, ${result.manifest.files.length + 1} files, ${formatBytes(result.bytes)}, sha256 verified\n` +
        (result.signature
          ? `  signature -> ${result.signature} (check it: ferry verify ${result.bundle} --pub KEY)\n`
          : '  no signature referrer\n'),
    );
  return 0;
}
