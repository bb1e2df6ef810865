import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isFerryError } from '@ferry/formats';
import { cachedConversion, defaultCacheDir } from '../convert/cache.js';
import { listSourceFiles, sourceDigest, sourceFingerprint } from '../convert/source-digest.js';
import { isServeError, serveError } from '../errors.js';
import { MAX_ENTRIES } from '../limits.js';
import type { Backend, BackendOptions, EntryOptions, EntryPoint, LoadedModel } from '@ferry/serving-api';
import { onnxruntimeBackend } from './onnxruntime.js';

/**
 * A model format that ferry serves by converting it to ONNX when a version loads. One small file
 * per format describes it (backends/savedmodel.ts); `convertingBackend` turns that into a Backend
 * whose conversions are cached on disk by the source's digest and which onnxruntime then runs.
 */
export interface SourceFormat {
  /** config.yaml `backend:` name. */
  readonly name: string;
  /** The protocol's platform string for models of this format (Triton's where it has one). */
  readonly platform: string;
  /** Names inside a version folder that hold a model of this format (files or folders). */
  readonly fileNames: readonly string[];
  /** Changes whenever the converter's output for the same source could change (joins the cache key). */
  readonly converterVersion: string;
  /** The file or folder whose files define the model, from the matched path (their digest is the cache key). */
  sourceRoot(path: string): string;
  /** Entry points (e.g. signatures), the primary one first; absent = one entry, key ''. */
  entries?(path: string): Promise<{ key: string; primary: boolean }[]>;
  /**
   * The ONNX model for one entry (key '' when the format has no entries). Formats whose files name
   * no inputs or outputs (frozen GraphDefs) take them from config.yaml: `tensors` is then set when
   * config lists any, as Triton's config names a tensorflow_graphdef model's tensors.
   */
  convert(path: string, entry: string, tensors?: TensorNames): Promise<Uint8Array>;
  /** Whether config.yaml's inputs/outputs choose the tensors the conversion feeds and fetches. */
  readonly tensorsFromConfig?: boolean;
}

/** Tensor names config.yaml gives a conversion (empty lists: the converter's defaults). */
export interface TensorNames {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** The names config.yaml's overrides give, for formats whose conversion takes them; else none. */
function tensorNames(format: SourceFormat, options: BackendOptions | EntryOptions): TensorNames | undefined {
  if (!format.tensorsFromConfig) return undefined;
  const inputs = (options.inputs ?? []).map((t) => t.name);
  const outputs = (options.outputs ?? []).map((t) => t.name);
  return inputs.length > 0 || outputs.length > 0 ? { inputs, outputs } : undefined;
}

/** The primary entry's key ('' for formats without entries), or undefined when none is primary. */
async function primaryEntry(format: SourceFormat, path: string): Promise<string | undefined> {
  if (!format.entries) return '';
  return (await format.entries(path)).find((e) => e.primary)?.key;
}

/** Conversion failures by cache key: a source that cannot convert is not retried until its files change. */
const failures = new Map<string, Error>();

async function convertCached(
  format: SourceFormat,
  path: string,
  entry: string,
  cacheDir: string | undefined,
  tensors?: TensorNames,
): Promise<string> {
  const root = format.sourceRoot(path);
  const source = await listSourceFiles(root);
  const digest = await sourceDigest(source);
  // the chosen tensors join the key: another config.yaml makes another model
  const key = createHash('sha256')
    .update(
      JSON.stringify([format.name, format.converterVersion, entry, digest, ...(tensors ? [tensors] : [])]),
    )
    .digest('hex');
  const failed = failures.get(key);
  if (failed) throw failed;
  const result = await cachedConversion({
    cacheDir: cacheDir ?? defaultCacheDir(),
    key,
    format: format.name,
    source: root,
    entry,
    convert: () =>
      format.convert(path, entry, tensors).catch((error: unknown) => {
        // the converter's FerryError is a property of the bytes (an op it lacks, a string input):
        // remembered; anything else (I/O, the cache folder) may pass and is retried next time
        if (isFerryError(error)) failures.set(key, error);
        throw error;
      }),
  });
  return result.path;
}

/** One line, as a reason in the repository index or a log line. */
const oneLine = (error: unknown) => ((error as Error).message ?? String(error)).split('\n')[0]!;

export function convertingBackend(format: SourceFormat): Backend {
  return {
    name: format.name,
    platform: format.platform,
    fileNames: format.fileNames,
    checkTensor: onnxruntimeBackend.checkTensor!,
    async fingerprint(path: string): Promise<string> {
      return sourceFingerprint(await listSourceFiles(format.sourceRoot(path)));
    },
    async entries(path: string, options: EntryOptions): Promise<EntryPoint[]> {
      const listed = format.entries ? await format.entries(path) : [{ key: '', primary: true }];
      if (listed.length > MAX_ENTRIES)
        throw serveError('FERRY_SERVE_REPOSITORY', {
          path,
          reason: `declares ${listed.length} entry points, over the limit of ${MAX_ENTRIES}`,
        });
      const out: EntryPoint[] = [];
      // converted now, so an entry that cannot convert is known (and skipped) before anything loads;
      // with the tensors config.yaml names, as load converts it (the same cache entry)
      for (const e of listed) {
        try {
          await convertCached(format, path, e.key, options.cacheDir, tensorNames(format, options));
          out.push(e);
        } catch (error) {
          if (isServeError(error) && error.code === 'FERRY_SERVE_CACHE') throw error;
          out.push({ ...e, skipped: oneLine(error) });
        }
      }
      return out;
    },
    async load(path: string, options: BackendOptions): Promise<LoadedModel> {
      let onnxPath: string;
      try {
        const entry = options.entry ?? (await primaryEntry(format, path));
        if (entry === undefined) throw new Error('it has no primary entry point (serving_default)');
        onnxPath = await convertCached(format, path, entry, options.cacheDir, tensorNames(format, options));
        await stat(onnxPath);
      } catch (error) {
        if (isServeError(error)) throw error;
        throw serveError(
          'FERRY_SERVE_LOAD',
          { path, reason: `conversion to ONNX failed: ${oneLine(error)}` },
          error,
        );
      }
      return onnxruntimeBackend.load(onnxPath, options);
    },
  };
}
