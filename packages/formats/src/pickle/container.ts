import { crc32 } from 'node:zlib';
import { type CompressionName, compressionOf, decompress } from '../compression/index.js';
import { type FerryError, ferryError, isFerryError } from '../errors.js';
import { type FindingKind, finding } from '../finding-kinds.js';
import type { Finding } from '../model.js';
import { BufferSource, type ByteSource } from '../tensor/byte-source.js';
import {
  archiveFindings,
  checkInflatedSize,
  everyEntry,
  type InflateBudget,
  scanInflateBudget,
  openMember,
  openZip,
  readLocalHeader,
  type ZipArchive,
  type ZipEntry,
} from '../zip/index.js';
import { containsObject } from '../numpy/npy-dtype.js';
import { hasNpyMagic, readNpyHeader } from '../numpy/npy-header.js';
import { memberPrefix } from '../numpy/npz-member-prefix.js';
import { BufferInput, type PickleInput } from './input.js';
import { type PickleResult, runPickle, runPickleLenient } from './machine.js';
import { OPCODES } from './opcodes.js';
import { judgePickles } from './policy.js';
import { type JoblibArray, joblibHook, readPickleStream, type StreamResult } from './stream.js';

/** Zips inside zips are scanned this deep; deeper nesting is itself a finding (CWE-409). */
export const MAX_ZIP_NESTING = 4;
/** A pickle member is read into memory to run; real ones (data.pkl) are kilobytes (CWE-789). */
export const MAX_PICKLE_MEMBER_BYTES = 1024 * 1024 * 1024;
/** A member neither named .pkl nor starting with PROTO is tried as a pickle only up to this size. */
export const MAX_UNNAMED_PICKLE_BYTES = 64 * 1024 * 1024;
/** Members scanned per archive, nested archives included (CWE-770). */
export const MAX_SCANNED_MEMBERS = 100_000;

/** joblib.dump(compress=...) wraps the whole stream: which compression, by its magic (one table). */
export function compression(head: Uint8Array): CompressionName | undefined {
  return compressionOf(head)?.name;
}

/**
 * Whether a compressed stream is joblib's, by the same rule for detection and scan: joblib's
 * own ZF container always is; otherwise its inflated head names NumpyArrayWrapper.
 */
export function compressedJoblib(name: CompressionName, inflatedHead: Uint8Array): boolean {
  if (name === 'zf') return true;
  const head = inflatedHead.subarray(0, JOBLIB_MARK_BYTES);
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes('NumpyArrayWrapper');
}

/** How much of an inflated stream is searched for joblib's mark (what detection inflates). */
const JOBLIB_MARK_BYTES = 4096;

/** Torch's legacy magic number pickled with protocol 2: PROTO 2, LONG1 10 bytes 0x1950a86a20f9469cfc6c. */
export const LEGACY_TORCH_HEAD = Uint8Array.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
]);
const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export type ContainerKind = 'zip' | 'pytorch-legacy' | 'npy' | 'pickle';

export function startsWith(head: Uint8Array, magic: Uint8Array): boolean {
  if (head.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[i] !== magic[i]) return false;
  return true;
}

/** A pickle starts with PROTO 0-5, or (protocols 0-1) with any opcode. */
export function looksLikePickle(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  if (head[0] === 0x80) return head.length > 1 && head[1]! <= 5;
  return OPCODES[head[0]!] !== undefined;
}

/** torch/serialization.py MAGIC_NUMBER, the first pickle of every legacy file. */
export const LEGACY_TORCH_MAGIC = 0x1950a86a20f9469cfc6cn;

/** A legacy torch file saved with another pickle protocol: its first pickle is the magic number. */
export function isLegacyTorch(head: Uint8Array): boolean {
  if (head[0] !== 0x80) return false;
  try {
    return runPickle(new BufferInput(head, 'head')).value === LEGACY_TORCH_MAGIC;
  } catch {
    return false;
  }
}

export function sniffContainer(head: Uint8Array): ContainerKind | undefined {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5))
    return 'zip';
  if (startsWith(head, LEGACY_TORCH_HEAD) || isLegacyTorch(head)) return 'pytorch-legacy';
  if (startsWith(head, NPY_MAGIC)) return 'npy';
  if (looksLikePickle(head)) return 'pickle';
  return undefined;
}

/** One pickle stream that was run, where it came from, and its judgement. */
export interface ScannedStream {
  /** Archive member path (`archive/data.pkl`, `outer.zip/inner.npy`) or '' for the file itself. */
  readonly member: string;
  readonly input: PickleInput;
  readonly stream: StreamResult;
  readonly arrays: JoblibArray[];
}

export interface ContainerScan {
  /** pytorch, torchscript, pytorch-legacy, npz, npy, joblib, pickle or zip. */
  readonly format: string;
  readonly findings: Finding[];
  readonly streams: ScannedStream[];
  /** The top-level zip, for loaders that go on to read storages. */
  readonly zip?: ZipArchive;
  /** The decompressed stream of a compressed joblib file: tensors are ranges of this. */
  readonly payload?: ByteSource;
  /** The main pickle did not parse: the file is an error, with what ran before it judged. */
  readonly error?: FerryError;
}

function locator(member: string, base: number): (offset: number) => string {
  return (offset) => (member ? `${member} byte ${offset - base}` : `byte ${offset}`);
}

class Scanner {
  readonly findings: Finding[] = [];
  readonly streams: ScannedStream[] = [];
  private members = 0;
  /** One budget for everything this scan inflates, nested archives included (CWE-409). */
  private readonly budget: InflateBudget;

  constructor(
    readonly path: string,
    fileSize: number,
  ) {
    this.budget = scanInflateBudget(fileSize);
  }

  note(rule: FindingKind, message: string, location: string): void {
    this.findings.push(finding(rule, message, location));
  }

  /** Runs a pickle stream and records its findings; `maxPickles` 5 for legacy torch headers. */
  runStream(
    input: PickleInput,
    member: string,
    start = input.start,
    maxPickles?: number,
    extraAllowed?: (name: string) => boolean,
    memberBase = input.start,
  ): StreamResult {
    const arrays: JoblibArray[] = [];
    const locate = locator(member, memberBase);
    const options = { locate, ...(extraAllowed && { extraAllowed }) };
    // CPython has run every opcode before the one that fails: judge those too.
    const partial = (from: number): PickleResult => ({
      ...runPickleLenient(input, from, { afterBuild: joblibHook([], []) }),
      value: null,
      start: from,
      end: from,
      protocol: 0,
    });
    let stream: StreamResult;
    try {
      stream = readPickleStream(input, { start, arrays, ...(maxPickles !== undefined && { maxPickles }) });
    } catch (error) {
      if (isFerryError(error)) this.findings.push(...judgePickles([partial(start)], options));
      throw error;
    }
    this.streams.push({ member, input, stream, arrays });
    const judged = [...stream.pickles, ...stream.nested];
    if (stream.trailing) judged.push(partial(stream.end));
    if (arrays.length > 0 || stream.nested.length > 0) {
      // joblib.load steps over inline array data; pickle.load runs the same bytes as opcodes.
      // Judge what plain pickle.load would do up to where it fails, so a payload hidden as
      // "array data" is seen.
      judged.push({ ...runPickleLenient(input, start), value: null, start, end: start, protocol: 0 });
    }
    this.findings.push(...judgePickles(judged, options));
    if (stream.trailing && maxPickles === undefined) {
      this.note(
        'trailing-data',
        `${input.end - stream.end} bytes after the last pickle are not a pickle (${stream.trailing.reason})`,
        locate(stream.end),
      );
    }
    return stream;
  }

  async scanNpy(source: ByteSource, member: string): Promise<void> {
    // The header is read as numpy reads it (literal_eval, then numpy.dtype): a descr ferry
    // cannot interpret throws, so the file is an error, never safe. np.load unpickles the data
    // of any dtype with an object anywhere (numpy/lib/format.py read_array: dtype.hasobject).
    const header = await readNpyHeader(member ? `${this.path}:${member}` : this.path, source.size, (length) =>
      source.read(0, Math.min(length, source.size)),
    );
    if (!containsObject(header.descr.numpy)) return;
    const dataStart = header.dataOffset;
    const bytes = await this.readAll(source, member, dataStart);
    this.note(
      'npy-object-array',
      `object array (descr ${header.descr.text}): np.load(allow_pickle=True) unpickles its data, judged below`,
      member || 'file',
    );
    this.runStream(
      new BufferInput(bytes, source.name, dataStart),
      member || '',
      dataStart,
      undefined,
      undefined,
      0,
    );
  }

  private async readAll(source: ByteSource, member: string, from = 0): Promise<Uint8Array> {
    const length = source.size - from;
    if (length > MAX_PICKLE_MEMBER_BYTES) {
      throw ferryError('FERRY_LIMIT', {
        path: `${this.path}:${member}`,
        what: 'pickle size',
        value: length,
        limit: MAX_PICKLE_MEMBER_BYTES,
        reason: 'CWE-789',
      });
    }
    return source.read(from, length);
  }

  async scanZip(source: ByteSource, prefix: string, depth: number): Promise<ZipArchive> {
    const zip = await openZip(source);
    const where = prefix || 'file';
    if (zip.prefixBytes > 0) {
      this.note(
        'zip-prefix-data',
        `${zip.prefixBytes} bytes before the first zip entry (a pickle loader reads those, a zip loader the rest)`,
        `${where} byte 0`,
      );
      const head = await source.read(0, Math.min(zip.prefixBytes, 2));
      if (looksLikePickle(head)) {
        const bytes = await source.read(0, zip.prefixBytes);
        try {
          this.runStream(new BufferInput(bytes, source.name), prefix);
        } catch (error) {
          if (!isFerryError(error)) throw error;
        }
      }
    }
    // Loaders that disagree, duplicate names, overlapping members: findings, then every member
    // any loader sees is scanned.
    this.findings.push(...archiveFindings(zip, where));
    const torchscript = zipFormat(zip) === 'torchscript';
    if (torchscript) {
      const code = zip.entries.filter((e) => /^[^/]+\/code\/.*\.py$/.test(e.name)).length;
      this.note(
        'torchscript-code',
        `${code} TorchScript source files: compiled by torch.jit.load and run when the model is called (not Python, no imports)`,
        where,
      );
    }
    for (const entry of everyEntry(zip)) {
      if (++this.members > MAX_SCANNED_MEMBERS) {
        throw ferryError('FERRY_LIMIT', {
          path: this.path,
          what: 'zip members scanned',
          value: this.members,
          limit: MAX_SCANNED_MEMBERS,
          reason: 'CWE-770',
        });
      }
      const member = prefix ? `${prefix}/${entry.name}` : entry.name;
      await this.scanMember(zip, entry, member, depth, torchscript);
    }
    return zip;
  }

  private async scanMember(
    zip: ZipArchive,
    entry: ZipEntry,
    member: string,
    depth: number,
    torchscript: boolean,
  ): Promise<void> {
    const local = await readLocalHeader(zip, entry);
    if (local.name !== entry.name) {
      this.note(
        'zip-name-mismatch',
        `the local header names it ${JSON.stringify(local.name)}: readers that trust local headers see another file`,
        member,
      );
    }
    // Bit 3 defers sizes to a data descriptor; 0xffffffff defers them to a ZIP64 extra field.
    const deferred =
      (local.flags & 0x8) !== 0 || local.compressedSize === 0xffffffff || local.size === 0xffffffff;
    if (
      local.method !== entry.method ||
      (!deferred && (local.compressedSize !== entry.compressedSize || local.size !== entry.size))
    ) {
      this.note(
        'zip-local-mismatch',
        `the local header says method ${local.method}, ${local.compressedSize} bytes compressed, ${local.size} inflated; the central directory method ${entry.method}, ${entry.compressedSize}, ${entry.size}: streaming readers see other data`,
        member,
      );
    }
    // Bits 0 (encrypted), 6 (strong encryption), 13 (masked header) hide the contents.
    if (entry.flags & 0x2041 || local.flags & 0x2041) {
      this.note('zip-encrypted', 'encrypted member: its contents cannot be scanned', member);
      return;
    }
    if (entry.method !== 0 && entry.method !== 8) {
      this.note(
        'zip-compression',
        `compression method ${entry.method}: its contents cannot be scanned`,
        member,
      );
      return;
    }
    // Known bits: 1-2 deflate options, 3 data descriptor, 11 UTF-8 names (APPNOTE 4.4.4).
    if ((entry.flags | local.flags) & ~0x080e) {
      this.note(
        'zip-odd-flags',
        `general purpose flags 0x${(entry.flags | local.flags).toString(16)} have bits zip writers do not set`,
        member,
      );
    }
    // A member claiming more than MAX_INFLATE_RATIO allows is a bomb whatever it holds: numpy
    // or torch would inflate it all. Refused from the directory, before inflating (CWE-409).
    if (entry.method === 8) checkInflatedSize(zip, entry);
    // torch's storages (*/data/N, */constants/N) are raw numbers: never scanned as pickles. But
    // np.load reads any member that starts with the npy magic as an array, whatever its name.
    if (/(^|\/)(data|constants)\/\d+$/.test(entry.name) && !hasNpyMagic(await memberPrefix(zip, entry, 6)))
      return;
    const source = await openMember(zip, entry, this.budget);
    const head = await source.read(0, Math.min(source.size, 16));
    const kind = sniffContainer(head);
    const expectsPickle =
      /\.(pkl|pickle|joblib)$/i.test(entry.name) || (head[0] === 0x80 && (head[1] ?? 9) <= 5);
    if (kind === undefined) {
      if (expectsPickle)
        this.note('unreadable-pickle', 'named like a pickle but does not start like one', member);
      return;
    }
    if (kind === 'zip') {
      if (depth + 1 > MAX_ZIP_NESTING) {
        this.note('zip-nesting', `zip nested more than ${MAX_ZIP_NESTING} deep is not scanned`, member);
        return;
      }
      // Deflate has no random access: a nested zip is inflated once (within the shared budget).
      const inner =
        entry.method === 0 ? source : new BufferSource(await source.read(0, source.size), source.name);
      await this.scanZip(inner, member, depth + 1);
      return;
    }
    if (kind === 'npy') {
      await this.scanNpy(source, member);
      return;
    }
    if (!expectsPickle && source.size > MAX_UNNAMED_PICKLE_BYTES) {
      // Big data members (weights in some other layout) that merely start with a byte that is
      // also an opcode: no loader runs these as pickles (torch.load runs data.pkl only).
      this.note(
        'member-not-scanned',
        `${source.size} bytes of data that is neither named nor marked as a pickle`,
        member,
      );
      return;
    }
    const bytes = await this.readAll(source, member);
    if (crc32(bytes) >>> 0 !== entry.crc32 >>> 0) {
      this.note(
        'zip-bad-crc',
        'the stored CRC-32 does not match the data (strict readers refuse the file, others load it)',
        member,
      );
    }
    const before = this.findings.length;
    try {
      const input = new BufferInput(bytes, `${this.path}:${entry.name}`);
      this.runStream(input, member, input.start, undefined, torchscript ? isTorchScriptName : undefined);
    } catch (error) {
      if (!isFerryError(error)) throw error;
      // A member torch or pickle.load would run must parse; others may be any data (TorchScript
      // source starts with `c`, GLOBAL's opcode), and what they "did" before failing is noise.
      if (!expectsPickle) this.findings.length = before;
      if (expectsPickle) {
        this.note('unreadable-pickle', `looks like a pickle but does not parse: ${error.message}`, member);
      }
    }
  }
}

/**
 * TorchScript's unpickler (torch/csrc/jit/serialization/unpickler.cpp) resolves `__torch__`
 * class types from the archive's compiled code and a fixed set of torch.jit._pickle helpers;
 * it imports no Python, so in a TorchScript archive these are data.
 */
export function isTorchScriptName(name: string): boolean {
  return (
    name.startsWith('__torch__.') ||
    /^torch\.jit\._pickle\.(build_intlist|build_tensorlist|build_doublelist|build_boollist|build_tensor_from_id|restore_type_tag)$/.test(
      name,
    )
  );
}

/** Names the archive: torch zips have <root>/data.pkl; TorchScript adds constants.pkl and code/. */
export function zipFormat(zip: ZipArchive): string {
  const names = zip.entries.map((e) => e.name);
  if (names.some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n))) return 'torchscript';
  if (names.some((n) => /^([^/]+\/)?data\.pkl$/.test(n))) return 'pytorch';
  if (names.length > 0 && names.every((n) => n.endsWith('.npy'))) return 'npz';
  return 'zip';
}

/**
 * Scans a pickle-family file found by its bytes: a zip (any members, nested zips, npy object
 * arrays), a legacy torch file (its five pickles; storages after them are data), an npy file,
 * a pickle stream (joblib arrays stepped over). Returns undefined when the bytes are none of
 * these. Parse errors in the main pickle propagate as FerryError.
 */
export async function scanContainer(
  source: ByteSource,
  path: string,
  openInput: (start: number, end: number) => PickleInput,
  /** Read the file as this kind whatever its bytes look like (one reading of a polyglot). */
  force?: ContainerKind,
): Promise<ContainerScan | undefined> {
  const scanner = new Scanner(path, source.size);
  try {
    return await scanWith(scanner, source, openInput, force);
  } catch (error) {
    // Whatever ran before the failure (a zip member, an npy object array, a compressed
    // stream) already ran: its findings are kept with the error (issue #16.4).
    if (!isFerryError(error) || scanner.findings.length === 0) throw error;
    const head = await source.read(0, Math.min(source.size, 64));
    const format = compression(head) ? 'joblib' : (sniffContainer(head) ?? 'pickle');
    return { format, findings: scanner.findings, streams: scanner.streams, error };
  }
}

async function scanWith(
  scanner: Scanner,
  source: ByteSource,
  openInput: (start: number, end: number) => PickleInput,
  force: ContainerKind | undefined,
): Promise<ContainerScan | undefined> {
  const { path } = scanner;
  const head = await source.read(0, Math.min(source.size, 64));
  let kind = force ?? sniffContainer(head);
  // A zip may have data prepended (then it does not start with PK): its end record tells.
  if (force === undefined && kind !== 'zip' && source.size >= 22) {
    const tail = await source.read(
      source.size - Math.min(source.size, 22 + 0xffff),
      Math.min(source.size, 22 + 0xffff),
    );
    let hasEocd = false;
    for (let at = tail.length - 22; at >= 0 && !hasEocd; at--) {
      hasEocd = tail[at] === 0x50 && tail[at + 1] === 0x4b && tail[at + 2] === 5 && tail[at + 3] === 6;
    }
    if (hasEocd) {
      try {
        await openZip(source);
        kind = 'zip';
      } catch (error) {
        if (!isFerryError(error)) throw error;
      }
    }
  }
  // joblib checks compression prefixes before anything else (numpy_pickle_utils
  // _detect_compressor), and "BZh" or "]\0" also read as pickle opcodes: the magic wins.
  const packed = kind === undefined || kind === 'pickle' ? compressionOf(head) : undefined;
  if (packed) {
    // Read in chunks through a file input: the compressed file is never held whole.
    const { bytes, trailing } = await decompress(packed, openInput(0, source.size), path);
    const name = `${path} (${packed.name})`;
    if (!looksLikePickle(bytes.subarray(0, 2))) {
      throw ferryError('FERRY_UNKNOWN_FORMAT', { path, reason: `${packed.name} data that is not a pickle` });
    }
    if (trailing > 0) {
      scanner.note(
        'trailing-data',
        `${trailing} bytes after the ${packed.name} data start no stream (joblib ignores them)`,
        `byte ${source.size - trailing}`,
      );
    }
    scanner.runStream(new BufferInput(bytes, name), `(${packed.name})`);
    return {
      format: compressedJoblib(packed.name, bytes) ? 'joblib' : 'pickle',
      findings: scanner.findings,
      streams: scanner.streams,
      payload: new BufferSource(bytes, name),
    };
  }
  switch (kind) {
    case 'zip': {
      // np.load decides by the first bytes: one that starts with the npy magic is an array to it
      // even with a zip at its end (numpy/lib/npyio.py load), so that reading is scanned too.
      if (startsWith(head, NPY_MAGIC)) await scanner.scanNpy(source, '');
      const zip = await scanner.scanZip(source, '', 0);
      return { format: zipFormat(zip), findings: scanner.findings, streams: scanner.streams, zip };
    }
    case 'npy':
      await scanner.scanNpy(source, '');
      return { format: 'npy', findings: scanner.findings, streams: scanner.streams };
    case 'pytorch-legacy': {
      const input = openInput(0, source.size);
      try {
        // magic, protocol version, sys_info, the object, storage keys; raw storages follow.
        scanner.runStream(input, '', 0, 5);
      } catch (error) {
        if (!isFerryError(error)) throw error;
        return { format: 'pytorch-legacy', findings: scanner.findings, streams: scanner.streams, error };
      }
      return { format: 'pytorch-legacy', findings: scanner.findings, streams: scanner.streams };
    }
    case 'pickle': {
      const input = openInput(0, source.size);
      let stream: StreamResult;
      try {
        stream = scanner.runStream(input, '');
      } catch (error) {
        if (!isFerryError(error)) throw error;
        return { format: 'pickle', findings: scanner.findings, streams: scanner.streams, error };
      }
      const joblib =
        scanner.streams[0]!.arrays.length > 0 ||
        stream.pickles.some((p) => p.globals.some((g) => g.module?.startsWith('joblib.')));
      return { format: joblib ? 'joblib' : 'pickle', findings: scanner.findings, streams: scanner.streams };
    }
    default:
      return undefined;
  }
}
