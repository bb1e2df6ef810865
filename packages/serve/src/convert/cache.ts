import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAll, writeFileAtomic } from '@ferry/formats';
import { serveError } from '../errors.js';

/** Where converted models go when neither `--cache-dir` nor ServeOptions.cacheDir says otherwise. */
export function defaultCacheDir(): string {
  const user = typeof process.getuid === 'function' ? `-${process.getuid()}` : '';
  return join(tmpdir(), `ferry-serve-cache${user}`);
}

/** What a cache entry's sidecar records; `onnxSha256` is checked on every read. */
interface CacheRecord {
  readonly key: string;
  readonly format: string;
  readonly source: string;
  readonly entry: string;
  readonly onnxBytes: number;
  readonly onnxSha256: string;
}

export interface CacheRequest {
  readonly cacheDir: string;
  /** sha256 hex of everything the result depends on (format, converter version, entry, source digest). */
  readonly key: string;
  readonly format: string;
  readonly source: string;
  readonly entry: string;
  readonly convert: () => Promise<Uint8Array>;
}

export interface CacheResult {
  readonly path: string;
  /** 'hit' = read from the cache; 'built' = converted now; 'rebuilt' = a bad entry was replaced. */
  readonly state: 'hit' | 'built' | 'rebuilt';
  /** Why an existing entry was not used ('rebuilt' only). */
  readonly reason?: string;
}

const checkedDirs = new Set<string>();
/** Entries this process wrote or hashed, by file identity: polling does not re-hash them every few seconds. */
const verified = new Map<string, string>();
const fileIdentity = (path: string) =>
  stat(path).then(
    (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
    () => undefined,
  );
/** The ONNX file's and its record's identity: a change to either means hashing again. */
async function identity(onnxPath: string): Promise<string | undefined> {
  const [onnx, record] = await Promise.all([
    fileIdentity(onnxPath),
    fileIdentity(onnxPath.replace(/\.onnx$/, '.json')),
  ]);
  return onnx && record ? `${onnx}/${record}` : undefined;
}
const inFlight = new Map<string, Promise<CacheResult>>();

/**
 * A shared temp folder is writable by everyone: another user could plant a model under the name
 * we are about to read (CWE-377/CWE-379). The cache folder must belong to us and be writable by
 * nobody else; we create it 0700.
 */
async function checkCacheDir(dir: string): Promise<void> {
  if (checkedDirs.has(dir)) return;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw serveError('FERRY_SERVE_CACHE', {
      path: dir,
      reason: `cannot create it: ${(error as Error).message}`,
    });
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw serveError('FERRY_SERVE_CACHE', { path: dir, reason: 'is not a folder' });
  if (typeof process.getuid === 'function' && info.uid !== process.getuid())
    throw serveError('FERRY_SERVE_CACHE', {
      path: dir,
      reason: `belongs to uid ${info.uid}, not to this process (uid ${process.getuid()}): use --cache-dir`,
    });
  if ((info.mode & 0o022) !== 0)
    throw serveError('FERRY_SERVE_CACHE', {
      path: dir,
      reason: `is writable by group or others (mode ${(info.mode & 0o777).toString(8)}): chmod go-w it or use --cache-dir`,
    });
  checkedDirs.add(dir);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Why the entry at `onnxPath` cannot be used, or undefined when it is whole. */
async function validate(
  onnxPath: string,
  recordPath: string,
  request: CacheRequest,
): Promise<string | undefined> {
  let record: CacheRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as CacheRecord;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'its record is not valid JSON';
  }
  if (record.key !== request.key || record.format !== request.format || record.entry !== request.entry)
    return 'its record names another key, format or entry';
  let bytes: Uint8Array;
  try {
    bytes = await readFile(onnxPath);
  } catch {
    return 'the ONNX file is missing';
  }
  if (bytes.byteLength !== record.onnxBytes)
    return `the ONNX file is ${bytes.byteLength} bytes, the record says ${record.onnxBytes}`;
  if (sha256(bytes) !== record.onnxSha256) return 'the ONNX file does not match its recorded sha256';
  return undefined;
}

/**
 * The converted model for `key`: read from `cacheDir` when a whole entry is there, else converted
 * and written (ONNX first, then its record, each atomically: a crash leaves no entry or an entry
 * without a record, which is rebuilt). Concurrent requests for one key share one conversion.
 */
export function cachedConversion(request: CacheRequest): Promise<CacheResult> {
  const id = join(request.cacheDir, request.key);
  const running = inFlight.get(id);
  if (running) return running;
  const task = (async (): Promise<CacheResult> => {
    await checkCacheDir(request.cacheDir);
    const onnxPath = join(request.cacheDir, `${request.key}.onnx`);
    const recordPath = join(request.cacheDir, `${request.key}.json`);
    const known = verified.get(onnxPath);
    if (known !== undefined && known === (await identity(onnxPath))) return { path: onnxPath, state: 'hit' };
    const problem = await validate(onnxPath, recordPath, request);
    if (problem === undefined) {
      const id = await identity(onnxPath);
      if (id) verified.set(onnxPath, id);
      return { path: onnxPath, state: 'hit' };
    }
    const bytes = await request.convert();
    try {
      await writeEntry(onnxPath, recordPath, request, bytes);
    } catch (error) {
      throw serveError(
        'FERRY_SERVE_CACHE',
        { path: request.cacheDir, reason: `cannot write an entry: ${(error as Error).message}` },
        error,
      );
    }
    const written = await identity(onnxPath);
    if (written) verified.set(onnxPath, written);
    return problem === 'absent'
      ? { path: onnxPath, state: 'built' }
      : { path: onnxPath, state: 'rebuilt', reason: problem };
  })();
  inFlight.set(id, task);
  return task.finally(() => inFlight.delete(id));
}

/** The ONNX file, then its record, each atomically. */
async function writeEntry(onnxPath: string, recordPath: string, request: CacheRequest, bytes: Uint8Array) {
  await writeFileAtomic(onnxPath, (file) => writeAll(file, bytes));
  const record: CacheRecord = {
    key: request.key,
    format: request.format,
    source: request.source,
    entry: request.entry,
    onnxBytes: bytes.byteLength,
    onnxSha256: sha256(bytes),
  };
  await writeFileAtomic(recordPath, (file) =>
    writeAll(file, new TextEncoder().encode(`${JSON.stringify(record, null, 1)}\n`)),
  );
}
