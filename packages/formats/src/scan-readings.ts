import { finding } from './finding-kinds.js';
import { stat } from 'node:fs/promises';
import { isFerryError } from './errors.js';
import { ggufHandler } from './gguf/gguf-handler.js';
import type { Finding, FormatHandler, Probe } from './model.js';
import { onnxHandler } from './onnx/handler.js';
import { wholeFileIsModelProto } from './onnx/whole-file-model.js';
import { type ContainerKind, looksLikePickle, scanContainer, startsWith } from './pickle/container.js';
import { FileInput } from './pickle/input.js';
import { SEVERITY_ORDER } from './pickle/policy.js';
import { safetensorsHandler } from './safetensors/read.js';
import type { ScanFileResult } from './scan.js';
import { FileSource } from './tensor/byte-source.js';
import { isUnsafe, verdictOf } from './verdict.js';
import { findEndRecord, openZip } from './zip/index.js';

/** What a probe sees of a file: enough for every magic number (detect.ts PROBE_HEAD_BYTES). */
const HEAD_BYTES = 4096;
/** Formats whose reading starts from byte 0 with the pickle machine (pickle.load, torch.load's legacy path). */
const PICKLE_FROM_START = new Set(['pickle', 'joblib', 'pytorch-legacy']);
/** Formats read from the end record (zip readers). */
const ZIP_FORMATS = new Set(['zip', 'pytorch', 'torchscript', 'npz']);
const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** One other way a loader can read the file, and what scanning it that way found. */
interface Reading {
  readonly format: string;
  readonly findings: readonly Finding[];
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Every other interpretation of a file that parses (#16.2): a polyglot is safe only if every
 * loader's reading is. pickle.load and torch.load (for files not starting with PK\x03\x04) read
 * from byte 0; zip readers from the end record; protobuf (onnx.load) the whole file from the
 * start, skipping unknown fields; safetensors, npy and GGUF loaders check magic or a header at
 * byte 0. Each reading is scanned by its own scanner; its findings are added (located
 * "as FORMAT: ..."), the worst verdict wins, and a file with more than one reading gets a
 * `polyglot` finding (medium: no model writer produces one).
 *
 * Cheap for ordinary files: each test looks at the head or the end record first, and the pickle
 * machine stops at the first byte that is no opcode (a safetensors or ONNX header, a zip's PK).
 */
export async function scanReadings(path: string, primary: ScanFileResult): Promise<ScanFileResult> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return primary;
  const readings: Reading[] = [];
  const source = await FileSource.open(path);
  const inputs: FileInput[] = [];
  try {
    const head = await source.read(0, Math.min(source.size, HEAD_BYTES));
    const probe: Probe = { path, isDirectory: false, size: source.size, head, entries: [], source };
    const container = async (format: string, kind: ContainerKind): Promise<Reading | undefined> => {
      const scan = await scanContainer(
        source,
        path,
        (start, end) => {
          const input = new FileInput(path, start, end);
          inputs.push(input);
          return input;
        },
        kind,
      );
      if (!scan) return undefined;
      // A pickle that fails to parse still ran every opcode before the failure (CPython): it is
      // a reading when what ran is unsafe, noise otherwise.
      if (scan.error) {
        return isUnsafe(scan.findings)
          ? { format, findings: scan.findings, error: { code: scan.error.code, message: scan.error.message } }
          : undefined;
      }
      return { format, findings: scan.findings };
    };
    const handler = async (format: string, h: FormatHandler): Promise<Reading> => {
      const model = await h.open(path, { unsafeInspect: true });
      try {
        return { format, findings: model.findings ?? [] };
      } finally {
        await model.close();
      }
    };
    const attempts: [string, () => Promise<boolean>, () => Promise<Reading | undefined>][] = [
      [
        'pickle',
        // PK\x03\x04 is BINPERSID on an empty stack: CPython refuses it at byte 0.
        async () => !PICKLE_FROM_START.has(primary.format) && looksLikePickle(head) && head[0] !== 0x50,
        () => container('pickle', 'pickle'),
      ],
      [
        'zip',
        async () => !ZIP_FORMATS.has(primary.format) && (await findEndRecord(source)) >= 0,
        async () => {
          await openZip(source); // must parse for some loader to count as a reading
          return container('zip', 'zip');
        },
      ],
      [
        'npy',
        async () => primary.format !== 'npy' && startsWith(head, NPY_MAGIC),
        () => container('npy', 'npy'),
      ],
      [
        'onnx',
        async () => primary.format !== 'onnx' && (await wholeFileIsModelProto(source)),
        () => handler('onnx', onnxHandler),
      ],
      [
        'safetensors',
        async () => primary.format !== 'safetensors' && (await safetensorsHandler.detect(probe)),
        () => handler('safetensors', safetensorsHandler),
      ],
      [
        'gguf',
        async () => primary.format !== 'gguf' && (await ggufHandler.detect(probe)),
        () => handler('gguf', ggufHandler),
      ],
    ];
    for (const [format, applies, read] of attempts) {
      let reading: Reading | undefined;
      try {
        if (!(await applies())) continue;
        reading = await read();
      } catch (error) {
        if (!isFerryError(error)) throw error;
        // Not this format after all, except where the reading parsed and then hit a limit (a
        // bomb inside the other reading): fail closed.
        if (error.code !== 'FERRY_LIMIT') continue;
        reading = { format, findings: [], error: { code: error.code, message: error.message } };
      }
      if (reading) readings.push(reading);
    }
  } finally {
    for (const input of inputs) input.close();
    await source.close();
  }
  if (readings.length === 0) return primary;
  return merge(primary, readings);
}

function merge(primary: ScanFileResult, readings: readonly Reading[]): ScanFileResult {
  const findings: Finding[] = [...primary.findings];
  for (const reading of readings) {
    for (const finding of reading.findings) {
      findings.push({ ...finding, location: `as ${reading.format}: ${finding.location ?? 'file'}` });
    }
  }
  const formats = [
    ...(primary.verdict === 'error' ? [] : [primary.format]),
    ...readings.map((r) => r.format),
  ];
  if (formats.length > 1) {
    findings.push(
      finding(
        'polyglot',
        `the file parses as ${formats.join(' and ')}: loaders that read it differently see different content (each reading scanned)`,
        'file',
      ),
    );
  }
  findings.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  const failed = primary.error ?? readings.find((r) => r.error && !isUnsafe(r.findings))?.error;
  if (failed) return { ...primary, verdict: 'error', findings, error: failed };
  return { ...primary, verdict: verdictOf(findings), findings };
}
