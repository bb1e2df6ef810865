import { type FindingKind, finding } from '../finding-kinds.js';
import type { Finding } from '../model.js';
import type { TfAttrValue, TfGraphDef, TfMetaGraph, TfNodeDef } from './types.js';

/**
 * Ops that reach outside the graph: run Python, read or write files, open databases or network
 * connections. A SavedModel is a program, and these are the ops through which a loaded model can
 * touch the machine that serves it (TensorFlow's own security guidance, SECURITY.md: "models are
 * programs"). Names are TensorFlow op registrations (tensorflow/core/ops/*.cc,
 * tensorflow/python/ops/script_ops.py).
 */
interface OpRule {
  readonly rule: FindingKind;
  readonly what: string;
}

const PYTHON: OpRule = { rule: 'savedmodel-python-op', what: 'calls back into Python' };
const FILE_WRITE: OpRule = { rule: 'savedmodel-file-write-op', what: 'writes files' };
const FILE_READ: OpRule = { rule: 'savedmodel-file-read-op', what: 'reads files' };
const MMAP: OpRule = {
  rule: 'savedmodel-file-read-op',
  what: 'memory-maps a file named in an attribute',
};
const EXTERNAL: OpRule = {
  rule: 'savedmodel-external-io-op',
  what: 'connects to a database or remote service',
};
const REMOTE: OpRule = {
  rule: 'savedmodel-remote-op',
  what: 'runs or exchanges data on another task or device',
};
const ASSET_READ: OpRule = {
  rule: 'savedmodel-asset-read-op',
  what: 'reads a lookup-table file (usually a vocabulary asset)',
};

export const RISKY_OPS: Readonly<Record<string, OpRule>> = {
  // script_ops.py: the body is a Python callable registered in the exporting process.
  PyFunc: PYTHON,
  PyFuncStateless: PYTHON,
  EagerPyFunc: PYTHON,
  // io_ops.cc, summary and dataset writers.
  WriteFile: FILE_WRITE,
  DatasetToTFRecord: FILE_WRITE,
  ExperimentalDatasetToTFRecord: FILE_WRITE,
  SaveDataset: FILE_WRITE,
  SaveDatasetV2: FILE_WRITE,
  SnapshotDataset: FILE_WRITE,
  SnapshotDatasetV2: FILE_WRITE,
  CreateSummaryFileWriter: FILE_WRITE,
  CreateSummaryDbWriter: FILE_WRITE,
  WriteSummary: FILE_WRITE,
  WriteRawProtoSummary: FILE_WRITE,
  WriteScalarSummary: FILE_WRITE,
  WriteHistogramSummary: FILE_WRITE,
  WriteImageSummary: FILE_WRITE,
  WriteAudioSummary: FILE_WRITE,
  WriteGraphSummary: FILE_WRITE,
  DebugIdentity: FILE_WRITE,
  DebugIdentityV2: FILE_WRITE,
  DebugIdentityV3: FILE_WRITE,
  DebugNanCount: FILE_WRITE,
  DebugNumericSummary: FILE_WRITE,
  DebugNumericSummaryV2: FILE_WRITE,
  // Readers and file-backed datasets.
  ReadFile: FILE_READ,
  MatchingFiles: FILE_READ,
  MatchingFilesDataset: FILE_READ,
  ExperimentalMatchingFilesDataset: FILE_READ,
  WholeFileReader: FILE_READ,
  WholeFileReaderV2: FILE_READ,
  TextLineReader: FILE_READ,
  TextLineReaderV2: FILE_READ,
  TFRecordReader: FILE_READ,
  TFRecordReaderV2: FILE_READ,
  FixedLengthRecordReader: FILE_READ,
  FixedLengthRecordReaderV2: FILE_READ,
  LMDBReader: FILE_READ,
  TextLineDataset: FILE_READ,
  TFRecordDataset: FILE_READ,
  TFRecordDatasetV2: FILE_READ,
  FixedLengthRecordDataset: FILE_READ,
  FixedLengthRecordDatasetV2: FILE_READ,
  CSVDataset: FILE_READ,
  CSVDatasetV2: FILE_READ,
  ExperimentalCSVDataset: FILE_READ,
  LMDBDataset: FILE_READ,
  ExperimentalLMDBDataset: FILE_READ,
  LoadDataset: FILE_READ,
  ImmutableConst: MMAP,
  InitializeTableFromTextFile: ASSET_READ,
  InitializeTableFromTextFileV2: ASSET_READ,
  // Databases and cloud services.
  SqlDataset: EXTERNAL,
  ExperimentalSqlDataset: EXTERNAL,
  BigQueryReader: EXTERNAL,
  GenerateBigQueryReaderPartitions: EXTERNAL,
  GcsConfigureCredentials: EXTERNAL,
  GcsConfigureBlockCache: EXTERNAL,
  // Cross-task execution.
  RemoteCall: REMOTE,
  _Send: REMOTE,
  _Recv: REMOTE,
  _HostSend: REMOTE,
  _HostRecv: REMOTE,
};

/**
 * TensorFlow's own variable saving (io_ops.cc): every SavedModel has these in its saver graph or
 * saver functions, and they write only where the caller's filename tensor says. Reported once per
 * MetaGraph, as information.
 */
export const CHECKPOINT_OPS: ReadonlySet<string> = new Set([
  'Save',
  'SaveV2',
  'SaveSlices',
  'Restore',
  'RestoreV2',
  'RestoreSlice',
  'MergeV2Checkpoints',
]);

const utf8 = new TextDecoder();

function attrString(value: TfAttrValue | undefined): string | undefined {
  if (value?.kind === 's') return utf8.decode(value.value);
  return undefined;
}

/** Attributes that make an otherwise pure op touch a file. */
function attrRule(node: TfNodeDef): { rule: OpRule; why: string } | undefined {
  if (node.op === 'PrintV2') {
    const stream = attrString(node.attr.output_stream);
    if (stream?.startsWith('file://')) return { rule: FILE_WRITE, why: `prints to ${stream}` };
  }
  if (node.op === 'DecodeProtoV2' || node.op === 'EncodeProto') {
    const source = attrString(node.attr.descriptor_source);
    if (source !== undefined && source !== '' && source !== 'local://') {
      return { rule: FILE_READ, why: `loads protobuf descriptors from ${source}` };
    }
  }
  return undefined;
}

/**
 * Findings for one graph's nodes and every node of its library functions: what a SavedModel's
 * MetaGraph and a frozen GraphDef (tfgraph/) share. Checkpoint ops are counted, not reported.
 */
export function scanGraphNodes(
  graph: TfGraphDef,
  label: string,
): { findings: Finding[]; checkpointOps: number } {
  const findings: Finding[] = [];
  let checkpointOps = 0;
  const visit = (node: TfNodeDef, where: string): void => {
    if (CHECKPOINT_OPS.has(node.op)) {
      checkpointOps++;
      return;
    }
    const rule = RISKY_OPS[node.op];
    const special = rule ? undefined : attrRule(node);
    const chosen = rule ?? special?.rule;
    if (!chosen) return;
    let message = `op ${node.op} ${special ? special.why : chosen.what}`;
    if (node.op === 'ImmutableConst') {
      const region = attrString(node.attr.memory_region_name);
      if (region) message += ` (${region})`;
    }
    findings.push(finding(chosen.rule, message, `${where}node ${node.name}`));
  };
  const prefix = label === '' ? '' : `${label} `;
  for (const node of graph.nodes) visit(node, prefix);
  for (const fn of graph.functions) {
    for (const node of fn.nodes) visit(node, `${prefix}function ${fn.name} `);
  }
  return { findings, checkpointOps };
}

/** The one information finding for a graph's checkpoint save/restore ops, or none. */
export function checkpointOpsFinding(count: number, label: string): Finding[] {
  if (count === 0) return [];
  return [
    finding(
      'savedmodel-checkpoint-op',
      `${count} checkpoint save/restore ops (TensorFlow's own variable saving; they write where the caller's filename tensor says)`,
      label === '' ? undefined : label,
    ),
  ];
}

/** Findings for one MetaGraph: its graph nodes and every node of every library function. */
export function scanMetaGraph(meta: TfMetaGraph, label: string): Finding[] {
  const { findings, checkpointOps } = scanGraphNodes(meta.graph, label);
  meta.assets.forEach((asset, i) => {
    const reason = assetPathProblem(asset.filename);
    if (reason) {
      findings.push(
        finding(
          'savedmodel-asset-path',
          `asset file name ${JSON.stringify(asset.filename)} ${reason}; TensorFlow joins it to the assets folder when loading`,
          `${label} asset_file_def[${i}]`,
        ),
      );
    }
  });
  findings.push(...checkpointOpsFinding(checkpointOps, label));
  return findings;
}

/**
 * AssetFileDef.filename is documented as a bare name inside assets/ (meta_graph.proto); the loader
 * joins it to the folder (saved_model/loader_impl), so `..`, absolute paths or NUL would point
 * the graph at files outside the model (CWE-22).
 */
export function assetPathProblem(filename: string): string | undefined {
  if (filename.includes('\0')) return 'contains a NUL byte';
  if (filename.startsWith('/') || /^[A-Za-z]:[\\/]/.test(filename) || filename.startsWith('\\'))
    return 'is an absolute path';
  if (filename.split(/[\\/]/).includes('..')) return 'climbs out of the assets folder with ..';
  return undefined;
}
