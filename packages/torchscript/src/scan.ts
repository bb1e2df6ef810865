import { FileSource, isFerryError, scanPath, zip } from '@ferry/formats';
import { torchscriptError } from './errors.js';

/** What scanBeforeLoad found: the archive's layout, and the pickles a scanner must read. */
export interface TorchScriptArchive {
  readonly path: string;
  /** The one top-level folder every member sits in (PyTorchStreamReader requires one). */
  readonly root: string;
  /** Members that are pickles (data.pkl, constants.pkl, code/*.debug_pkl), in archive order. */
  readonly pickles: readonly string[];
  readonly entries: number;
}

/**
 * Checks, before libtorch reads a byte of it, that `path` is a TorchScript archive as
 * torch.jit.save writes it (torch/csrc/jit/serialization/export_module.cpp): a zip whose members
 * sit in one folder holding data.pkl, constants.pkl and code/. A torch.save checkpoint (data.pkl
 * without code/) is refused with a hint to script or trace it.
 *
 * Then every pickle in it goes through @ferry/formats' non-executing pickle machine and policy
 * (`scanPath`): a global outside the allowlist refuses the model before torch::jit::load runs,
 * since libtorch's unpickler would resolve it.
 */
export async function scanBeforeLoad(path: string): Promise<TorchScriptArchive> {
  const fail = (reason: string) => torchscriptError('FERRY_TORCHSCRIPT_ARCHIVE', { path, reason });
  let source: FileSource;
  try {
    source = await FileSource.open(path);
  } catch (error) {
    const reason =
      isFerryError(error) && error.code === 'FERRY_NOT_FOUND' ? 'no such file' : (error as Error).message;
    throw torchscriptError('FERRY_TORCHSCRIPT_LOAD', { path, reason }, error);
  }
  try {
    let archive: zip.ZipArchive;
    try {
      archive = await zip.openZip(source);
    } catch (error) {
      if (isFerryError(error)) throw fail(`not a readable zip (${error.message})`);
      throw error;
    }
    // a stub before the zip makes the file a polyglot; torch.jit.save never writes one
    if (archive.prefixBytes > 0) throw fail(`${archive.prefixBytes} bytes precede the zip data`);
    const names = archive.entries.map((e) => e.name);
    if (names.length === 0) throw fail('the zip is empty');
    const root = names[0]!.split('/')[0]!;
    const stray = names.find((n) => !n.startsWith(`${root}/`));
    if (stray !== undefined)
      throw fail(
        `member ${stray} is outside the archive folder ${root}/ (every member must share one folder)`,
      );
    const has = (member: string) => names.includes(`${root}/${member}`);
    const hasCode = names.some((n) => n.startsWith(`${root}/code/`));
    if (!has('data.pkl')) throw fail(`no ${root}/data.pkl (the module's pickled object graph)`);
    if (!hasCode || !has('constants.pkl'))
      throw fail(
        `no ${!hasCode ? 'code/ folder' : 'constants.pkl'}: this looks like a torch.save checkpoint, not a TorchScript module (load it in Python and save torch.jit.script(model) or torch.jit.trace(model, example))`,
      );
    const scan = await scanPath(path);
    // `invalid` (a bad CRC, odd flags: nothing runs) is left to libtorch's own reader to accept
    // or refuse; what runs code, or was not read, is refused here (docs/security.md "Verdicts").
    if (scan.verdict === 'unsafe' || scan.verdict === 'error') {
      const worst =
        scan.findings.find((f) => f.severity === 'critical' || f.severity === 'high') ?? scan.findings[0];
      const why = worst
        ? `${worst.severity} ${worst.rule}: ${worst.message}${worst.location ? ` (${worst.location})` : ''}`
        : (scan.error?.message ?? 'the scanner could not read it');
      throw torchscriptError('FERRY_TORCHSCRIPT_UNSAFE', {
        path,
        reason: `the pickle scanner found ${why} (ferry scan ${path} lists every finding)`,
      });
    }
    return {
      path,
      root,
      pickles: names.filter((n) => n.endsWith('.pkl') || n.endsWith('.debug_pkl')),
      entries: names.length,
    };
  } finally {
    await source.close();
  }
}
