import { pushBundle } from '@ferry/bundle';
import { formatModelUri, isOciReference, type RegistryClient } from '@ferry/registry-client';
import { terminalText as t } from '../terminal-text.js';
import type { Command, ParsedArgs } from '../command.js';
import type { CliIO } from '../io.js';
import { OCI_OPTIONS, ociCredentials } from '../oci-options.js';
import { formatBytes } from '../format-table.js';
import { printJson } from '../io.js';
import { ProgressBar, transferNote } from '../progress.js';
import { REGISTRY_OPTIONS, registryClient } from '../registry-client.js';
import { pathOption, positiveInteger, stringList, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

/** An upload chunk is held in memory whole: past 1 GiB a push is a memory problem (CWE-400). */
const MAX_CHUNK_MIB = 1024;

export const pushCommand: Command = {
  name: 'push',
  summary: 'upload a model to the registry as a new version, or a bundle to an OCI registry',
  usage:
    'push PATH --model NAME [--alias A] [--run ID] [--derived-from models:/...] [--description TEXT] [--private] [--allow-unsafe] | push BUNDLE oci://HOST[:PORT]/REPO[:TAG] [--signature SIG|--no-signature]',
  options: {
    model: {
      type: 'string',
      valueName: 'NAME',
      description: 'model name, NAME or NAMESPACE/NAME (created if new)',
    },
    alias: { type: 'string', valueName: 'ALIAS', description: 'point this alias at the new version' },
    run: {
      type: 'string',
      valueName: 'ID',
      description: 'the run that produced it (lineage: run -> version)',
    },
    'derived-from': {
      type: 'string',
      multiple: true,
      valueName: 'URI',
      description: 'models:/... it was derived from (repeatable)',
    },
    description: { type: 'string', valueName: 'TEXT', description: 'version description' },
    private: { type: 'boolean', description: 'create a new model as private' },
    'allow-unsafe': {
      type: 'boolean',
      description:
        'a version the scan calls unsafe: set --alias anyway and exit 0 (without it: exit 1, alias not moved)',
    },
    ...REGISTRY_OPTIONS,
    signature: {
      type: 'string',
      valueName: 'SIG',
      description: 'oci://: the signature to attach as a referrer (default BUNDLE.sig when present)',
    },
    'no-signature': { type: 'boolean', description: 'oci://: push without a signature' },
    'chunk-size': {
      type: 'string',
      valueName: 'MIB',
      description: 'oci://: PATCH upload chunk in MiB (default 64)',
    },
    ...OCI_OPTIONS,
  },
  async run(args, io) {
    // One command, two targets: `push BUNDLE oci://...` goes to an OCI registry, `push PATH --model` to ferry's.
    const target = args.positionals[1];
    if (target !== undefined && isOciReference(target)) return pushToOci(args, io);
    const path = args.positionals[0];
    if (!path || args.positionals.length > 1) throw new UsageError('push takes one PATH');
    const v = args.values;
    const model = stringOption(v, 'model');
    if (!model) throw new UsageError('push needs --model NAME');
    const alias = stringOption(v, 'alias');
    const runId = stringOption(v, 'run');
    const derivedFrom = stringList(v, 'derived-from');
    const description = stringOption(v, 'description');
    const client = await registryClient(args);
    let bar: ProgressBar | undefined;
    // The alias is set only once the verdict is known: an unsafe version is kept (the registry
    // refuses to serve or pull it without an explicit override) but never promoted by accident.
    let version = await client.push(path, {
      model,
      ...(runId && { runId }),
      ...(derivedFrom && { derivedFrom }),
      ...(description && { description }),
      ...(args.values.private && { visibility: 'private' as const }),
      onProgress: (done, total, file, bytes) => {
        bar ??= new ProgressBar(io, 'push', total);
        bar.update(done, bytes ? `${file} (${transferNote(bytes)})` : file);
      },
    });
    (bar as ProgressBar | undefined)?.finish();
    const refused = version.scan === 'unsafe' && args.values['allow-unsafe'] !== true;
    if (alias && !refused) {
      await client.setAlias(model, alias, version.version);
      version = await client.getVersion(model, version.version);
    }
    const uri = formatModelUri({ model: version.model, version: version.version });
    const findings =
      version.scan === 'unsafe' ? await scanFindings(client, version.model, version.version) : [];
    if (args.values.json) printJson(io, { ...version, ...(version.scan === 'unsafe' && { findings }) });
    else {
      const bytes = version.files.reduce((sum, f) => sum + f.size, 0);
      io.stdout.write(
        `pushed ${uri}: ${version.files.length} file(s), ${formatBytes(bytes)}, scan ${version.scan}${version.aliases.length ? `, aliases ${version.aliases.join(', ')}` : ''}\n`,
      );
      // the registry's findings, printed as ferry scan prints its own
      for (const file of findings) {
        if (file.verdict !== 'unsafe') continue;
        io.stdout.write(`${t(file.path)}: ${t(file.format)}: unsafe (${file.findings.length} findings)\n`);
        for (const f of file.findings)
          io.stdout.write(
            `  ${f.severity.toUpperCase()} ${f.rule}: ${t(f.message)}${f.location ? ` [${t(f.location)}]` : ''}\n`,
          );
      }
    }
    if (!refused) return 0;
    io.stderr.write(
      `ferry push: ${uri} is unsafe: stored (pulls and serving refuse it without an override)${alias ? `, alias ${alias} not moved` : ''}; --allow-unsafe to accept it\n`,
    );
    return 1;
  },
};

interface FileFindings {
  readonly path: string;
  readonly format: string;
  readonly verdict: string;
  readonly findings: readonly { severity: string; rule: string; message: string; location?: string }[];
}

/** The registry's scan of what it stored: every finding on every file. */
async function scanFindings(client: RegistryClient, model: string, version: number): Promise<FileFindings[]> {
  const response = await client.request(
    'GET',
    `/api/v1/models/${encodeURIComponent(model)}/versions/${version}/scan`,
  );
  return ((await response.json()) as { files: FileFindings[] }).files;
}

async function pushToOci(args: ParsedArgs, io: CliIO): Promise<number> {
  const [bundle, target] = args.positionals as [string, string];
  if (args.positionals.length > 2) throw new UsageError('push takes one BUNDLE and one oci:// reference');
  if (args.values.model)
    throw new UsageError('--model names a ferry registry model; an oci:// push takes none');
  const chunkMiB = positiveInteger(args.values, 'chunk-size', MAX_CHUNK_MIB);
  const signature = pathOption(args.values, 'signature');
  const credentials = ociCredentials(args);
  let bar: ProgressBar | undefined;
  const result = await pushBundle(bundle, target, {
    ...(credentials && { credentials }),
    ...(args.values['no-signature'] ? { signature: false as const } : signature ? { signature } : {}),
    ...(chunkMiB !== undefined && { chunkBytes: chunkMiB * 1024 * 1024 }),
    onProgress: (done, total, file) => {
      bar ??= new ProgressBar(io, 'push', total);
      bar.update(done, file);
    },
  });
  (bar as ProgressBar | undefined)?.finish();
  if (args.values.json) printJson(io, result);
  else
    io.stdout.write(
      `pushed ${bundle} -> ${result.reference} (tag ${result.tag})\n` +
        `  ${result.layers} layers, ${formatBytes(result.bytes)}: ${result.uploaded} uploaded, ${result.skipped} already there\n` +
        (result.signature
          ? `  signature ${result.signature.path} -> referrer ${result.signature.digest}\n`
          : '  unsigned (no signature file)\n'),
    );
  return 0;
}
