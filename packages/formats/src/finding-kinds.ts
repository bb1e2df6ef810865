import type { Finding, Severity } from './model.js';

/**
 * Every kind of finding ferry reports, with its one severity (issue #22.5: the same object
 * array was MEDIUM in inspect and INFO in scan). Findings are made only through `finding()`,
 * so a kind cannot have two severities whatever the command; finding-kinds.test.ts checks that
 * no other file writes a severity.
 *
 * critical: runs code or reaches the system when loaded. high: does something a data file has
 * no reason to do, or hides content from the scan. medium: not known to be harmful, but not
 * what a plain model file holds; the file is refused by default. low/info: notes.
 */
export const FINDING_SEVERITY = {
  // pickle: calls and names (pickle/policy.ts) and the machine's anomalies
  'dangerous-call': 'critical',
  'dangerous-global': 'critical',
  'indirect-call': 'critical',
  'unresolvable-call': 'critical',
  'unresolvable-global': 'critical',
  'global-mutation': 'critical',
  'unknown-call': 'high',
  'odd-call': 'high',
  'extension-registry': 'high',
  'unknown-global': 'medium',
  'out-of-band-buffer': 'medium',
  'unreadable-pickle': 'medium',
  // After the last pickle: pickle.load stops at STOP and never reads them.
  'trailing-data': 'low',
  'member-not-scanned': 'info',
  'torchscript-code': 'info',
  // The data of an object array is a pickle: it is judged by the findings above, wherever found.
  'npy-object-array': 'info',
  'npy-trailing-data': 'low',
  // zip containers (torch, npz, nested)
  'zip-differential': 'high',
  'zip-encrypted': 'high',
  'zip-compression': 'high',
  'zip-nesting': 'high',
  'zip-duplicate-name': 'medium',
  'zip-overlap': 'medium',
  'zip-prefix-data': 'medium',
  'zip-name-mismatch': 'medium',
  'zip-local-mismatch': 'medium',
  'zip-bad-crc': 'medium',
  'zip-odd-flags': 'low',
  // torch's pre-1.6 tar format: bytes another loader could read differently
  'tar-link': 'high',
  'tar-trailing-data': 'medium',
  'tar-extra-member': 'info',
  // any file
  polyglot: 'medium',
  'source-code': 'medium',
  // ONNX checker problems (onnx-check/<rule>)
  'onnx-check': 'medium',
  // SavedModel graph ops (savedmodel/findings.ts)
  'savedmodel-python-op': 'critical',
  'savedmodel-file-write-op': 'high',
  'savedmodel-external-io-op': 'high',
  'savedmodel-asset-path': 'high',
  'savedmodel-file-read-op': 'medium',
  'savedmodel-remote-op': 'medium',
  'savedmodel-asset-read-op': 'low',
  'savedmodel-checkpoint-op': 'info',
  // GGUF
  'gguf-data-gap': 'low',
  'gguf-removed-type': 'info',
} as const satisfies Record<string, Severity>;

export type FindingKind = keyof typeof FINDING_SEVERITY;

/** A rule is its kind, or `kind/detail` (onnx-check/ssa): the kind before the slash sets severity. */
export type FindingRule = FindingKind | `${FindingKind}/${string}`;

export function severityOf(rule: FindingRule): Severity {
  return FINDING_SEVERITY[rule.split('/')[0] as FindingKind];
}

/** The one way to make a finding: its severity comes from the table. */
export function finding(rule: FindingRule, message: string, location?: string): Finding {
  return { severity: severityOf(rule), rule, message, ...(location !== undefined && { location }) };
}
