import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ferryError } from '../errors.js';
import { type ByteSource, FileSource } from '../tensor/byte-source.js';
import { MAX_ONNX_EXTERNAL_FILES, MAX_ONNX_LOCATION_LENGTH } from './limits.js';
import type { OnnxTensor } from './schema.js';

/** A tensor's external_data entries, parsed and checked (onnx.proto, TensorProto.external_data). */
export interface ExternalDataInfo {
  readonly location: string;
  readonly offset: number;
  /** Absent when the file does not say: the data runs to the end of the file. */
  readonly length: number | undefined;
  readonly checksum: string | undefined;
}

/** `basepath` is written by onnx's set_external_data but never used to read (the model folder is). */
const KNOWN_KEYS = new Set(['location', 'offset', 'length', 'checksum', 'basepath']);

export function parseExternalData(path: string, tensor: OnnxTensor): ExternalDataInfo {
  const name = tensor.name ?? '';
  const seen = new Map<string, string>();
  for (const entry of tensor.external_data ?? []) {
    const key = entry.key ?? '';
    const fail = (rule: string) => ferryError('FERRY_ONNX_EXTERNAL_KEYS', { path, tensor: name, key, rule });
    if (!KNOWN_KEYS.has(key)) throw fail('unknown key (known: location, offset, length, checksum)');
    if (seen.has(key)) throw fail('given more than once');
    seen.set(key, entry.value ?? '');
  }
  const location = seen.get('location');
  if (location === undefined) {
    throw ferryError('FERRY_ONNX_EXTERNAL_KEYS', { path, tensor: name, key: 'location', rule: 'missing' });
  }
  const number = (key: string): number | undefined => {
    const text = seen.get(key);
    if (text === undefined) return undefined;
    // onnx writes these as str(int); anything else (signs, spaces, hex) is refused.
    if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw ferryError('FERRY_ONNX_EXTERNAL_KEYS', {
        path,
        tensor: name,
        key,
        rule: `"${text.slice(0, 40)}" is not a non-negative integer below 2^53`,
      });
    }
    return Number(text);
  };
  return {
    location,
    offset: number('offset') ?? 0,
    length: number('length'),
    checksum: seen.get('checksum'),
  };
}

/**
 * Refuses a location that could name a file outside the model's folder, before touching the
 * filesystem: CVE-2022-25882 (`../` in location) and CVE-2024-27318 (its bypass). Both separators
 * count, since a model made on Windows may use backslashes.
 */
export function checkLocationSyntax(path: string, tensor: string, location: string): void {
  const fail = (rule: string) =>
    ferryError('FERRY_ONNX_EXTERNAL_PATH', { path, tensor, location: location.slice(0, 200), rule });
  if (location.length === 0) throw fail('empty location');
  if (location.length > MAX_ONNX_LOCATION_LENGTH)
    throw fail(`longer than ${MAX_ONNX_LOCATION_LENGTH} characters (PATH_MAX)`);
  if (location.includes('\0')) throw fail('NUL byte in location');
  if (isAbsolute(location) || /^[\\/]/.test(location) || /^[A-Za-z]:/.test(location))
    throw fail('absolute path (CVE-2022-25882)');
  if (location.split(/[\\/]/).includes('..')) throw fail('".." in location (CVE-2022-25882, CVE-2024-27318)');
}

/**
 * An external data file, opened per read: a model may name thousands of files (onnx's default
 * is one per tensor), so holding a descriptor for each would exhaust them.
 */
class ExternalFileSource implements ByteSource {
  get file(): string {
    return this.name;
  }

  constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.withFile((file) => file.read(offset, length));
  }

  async readInto(offset: number, out: Uint8Array): Promise<void> {
    return this.withFile((file) => file.readInto(offset, out));
  }

  /** Opens the file for one read; FileSource checks every range against the size first. */
  private async withFile<T>(use: (file: FileSource) => Promise<T>): Promise<T> {
    const file = await FileSource.open(this.name);
    try {
      return await use(file);
    } finally {
      await file.close();
    }
  }

  async close(): Promise<void> {}
}

/** Resolves external data locations of one model, each file checked and stat'ed once. */
export class ExternalDataResolver {
  private readonly files = new Map<string, ByteSource>();
  private folder: string | undefined;

  constructor(
    private readonly modelPath: string,
    private readonly modelDir: string,
  ) {}

  /** The confined file a location names; every rule is checked before it is opened. */
  async resolve(tensor: string, location: string): Promise<ByteSource> {
    const cached = this.files.get(location);
    if (cached) return cached;
    const path = this.modelPath;
    checkLocationSyntax(path, tensor, location);
    const fail = (rule: string) =>
      ferryError('FERRY_ONNX_EXTERNAL_PATH', { path, tensor, location: location.slice(0, 200), rule });
    if (this.files.size >= MAX_ONNX_EXTERNAL_FILES) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'number of external data files',
        value: this.files.size + 1,
        limit: MAX_ONNX_EXTERNAL_FILES,
        reason: 'each is checked and stat-ed on open (CWE-770)',
      });
    }
    this.folder ??= await realpath(this.modelDir);
    let real: string;
    try {
      real = await realpath(join(this.modelDir, location));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw fail('no such file beside the model');
      throw ferryError(
        'FERRY_IO',
        { path: join(this.modelDir, location), reason: (error as Error).message },
        error,
      );
    }
    // A symlink (or a symlinked folder on the way) may point anywhere: only where it ends counts.
    const rel = relative(this.folder, real);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw fail('resolves outside the model folder through a symlink (CVE-2024-27318)');
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(real);
    } catch (error) {
      throw ferryError('FERRY_IO', { path: real, reason: (error as Error).message }, error);
    }
    if (!info.isFile()) throw fail('not a regular file');
    const source = new ExternalFileSource(real, info.size);
    this.files.set(location, source);
    return source;
  }
}
