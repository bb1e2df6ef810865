import type { Finding, Severity } from './model.js';

/**
 * Every kind of finding ferry reports, with its one severity and its class. Findings are made
 * only through `finding()`, so a kind cannot have two severities whatever the command (issue
 * #22.5: the same object array was MEDIUM in inspect and INFO in scan); finding-kinds.test.ts
 * checks that no other file writes a severity, and that every rule the scanners emit is here.
 *
 * Severity: critical: runs code or reaches the system when loaded. high: does something a data
 * file has no reason to do, or hides content from the scan. medium: not known to be harmful, but
 * not what a plain model file holds; the file is refused by default. low/info: notes.
 *
 * Class (issue #18: "unsafe" must mean the file can run code, touch files or the network when
 * loaded; a file that is merely invalid or non-standard is `invalid`), what a serious finding
 * (medium and above, verdict.ts) means; docs/security.md shows it:
 * - `code`: loading runs code, or reads or writes files or the network.
 * - `hidden`: a part a loader would run cannot be scanned, or loaders disagree on what the file
 *   holds, so what runs was not shown harmless (the constructions used to slip pickles past
 *   scanners). Judged like `code`.
 * - `invalid`: the file breaks its format's rules or is non-standard: a loader may refuse it or
 *   read it differently, but nothing in it runs.
 * - `note`: a fact worth showing that says nothing about safety or validity.
 */
export type FindingClass = 'code' | 'hidden' | 'invalid' | 'note';

interface FindingKindInfo {
  readonly severity: Severity;
  readonly class: FindingClass;
}

export const FINDING_KINDS = {
  // pickle: calls and names (pickle/policy.ts) and the machine's anomalies
  'dangerous-call': { severity: 'critical', class: 'code' }, // calls os.system, builtins.eval, ...
  'dangerous-global': { severity: 'critical', class: 'code' }, // GLOBAL imports the module (import runs its code)
  'indirect-call': { severity: 'critical', class: 'code' }, // calls the result of another call
  'unresolvable-call': { severity: 'critical', class: 'code' }, // calls a global whose name is computed at load
  'unresolvable-global': { severity: 'critical', class: 'code' },
  'global-mutation': { severity: 'critical', class: 'code' }, // BUILD/SETITEM on a module-level object
  'unknown-call': { severity: 'high', class: 'code' }, // calls a global that is not a known data reconstructor
  'odd-call': { severity: 'high', class: 'code' }, // REDUCE/NEWOBJ on something that is not a global
  'extension-registry': { severity: 'high', class: 'code' }, // EXT1/2/4 name a global from copyreg's registry
  'unknown-global': { severity: 'medium', class: 'code' }, // likewise: find_class imports an unknown module
  'out-of-band-buffer': { severity: 'medium', class: 'invalid' }, // NEXT_BUFFER: pickle.load refuses it without caller buffers
  'unreadable-pickle': { severity: 'medium', class: 'hidden' }, // our machine cannot read a member CPython might still run
  // After the last pickle: pickle.load stops at STOP and never reads them.
  'trailing-data': { severity: 'low', class: 'invalid' }, // bytes after what the loader reads
  'member-not-scanned': { severity: 'info', class: 'note' }, // data members no loader unpickles
  'torchscript-code': { severity: 'info', class: 'code' }, // TorchScript source compiled by torch.jit.load (info: no imports)
  // The data of an object array is a pickle: it is judged by the findings above, wherever found.
  'npy-object-array': { severity: 'info', class: 'code' }, // np.load(allow_pickle=True) unpickles it (the pickle is judged too)
  'npy-trailing-data': { severity: 'low', class: 'invalid' },
  // zip containers (torch, npz, nested)
  'zip-differential': { severity: 'high', class: 'hidden' }, // zip readers list different members
  'zip-encrypted': { severity: 'high', class: 'hidden' }, // contents cannot be scanned
  'zip-compression': { severity: 'high', class: 'hidden' }, // a method the scanner cannot inflate: not scanned
  'zip-nesting': { severity: 'high', class: 'hidden' }, // nested deeper than scanned
  'zip-duplicate-name': { severity: 'medium', class: 'hidden' }, // readers pick different members of one name
  'zip-overlap': { severity: 'medium', class: 'invalid' }, // two members share bytes (the overlapping zip bomb); each is scanned
  'zip-prefix-data': { severity: 'medium', class: 'hidden' }, // a pickle loader reads the prefix, a zip loader the rest
  'zip-name-mismatch': { severity: 'medium', class: 'hidden' }, // local and central names differ: readers load other files
  'zip-local-mismatch': { severity: 'medium', class: 'hidden' }, // local and central sizes/methods differ: other bytes
  'zip-bad-crc': { severity: 'medium', class: 'invalid' }, // strict readers refuse, others load the same bytes
  'zip-odd-flags': { severity: 'low', class: 'invalid' },
  // torch's pre-1.6 tar format: bytes another loader could read differently
  'tar-link': { severity: 'high', class: 'code' }, // tarfile.extract writes a link or device: touches files
  'tar-trailing-data': { severity: 'medium', class: 'hidden' }, // bytes after the tar another loader could read differently
  'tar-extra-member': { severity: 'info', class: 'note' },
  // any file
  polyglot: { severity: 'medium', class: 'invalid' },
  'source-code': { severity: 'medium', class: 'code' }, // transformers runs it with trust_remote_code=True
  // ONNX checker problems (onnx-check/<rule>)
  'onnx-check': { severity: 'medium', class: 'invalid' }, // graph structure only (onnx.checker.check_model): a domain used without an opset import, SSA, order...; ONNX runs no code of its own
  // SavedModel graph ops (savedmodel/findings.ts)
  'savedmodel-python-op': { severity: 'critical', class: 'code' }, // py_func: calls back into Python
  'savedmodel-file-write-op': { severity: 'high', class: 'code' },
  'savedmodel-external-io-op': { severity: 'high', class: 'code' },
  'savedmodel-asset-path': { severity: 'high', class: 'code' }, // an asset path leading out of the folder
  'savedmodel-file-read-op': { severity: 'medium', class: 'code' },
  'savedmodel-remote-op': { severity: 'medium', class: 'code' }, // network
  'savedmodel-asset-read-op': { severity: 'low', class: 'code' }, // reads its own assets (low: inside the model folder)
  'savedmodel-checkpoint-op': { severity: 'info', class: 'code' }, // restores its own variables (info)
  // GGUF
  'gguf-data-gap': { severity: 'low', class: 'invalid' },
  'gguf-removed-type': { severity: 'info', class: 'invalid' }, // a ggml type current llama.cpp no longer loads
} as const satisfies Record<string, FindingKindInfo>;

export type FindingKind = keyof typeof FINDING_KINDS;

/** A rule is its kind, or `kind/detail` (onnx-check/ssa): the kind before the slash decides. */
export type FindingRule = FindingKind | `${FindingKind}/${string}`;

/** The kind of a rule read back from anywhere (a stored scan, another version): null if unknown. */
function kindOf(rule: string): FindingKindInfo | null {
  const kind = rule.split('/')[0]!;
  return Object.hasOwn(FINDING_KINDS, kind) ? FINDING_KINDS[kind as FindingKind] : null;
}

export function severityOf(rule: FindingRule): Severity {
  return kindOf(rule)!.severity;
}

/** The class of a finding's rule; an unlisted rule is `code`, so a new scanner fails closed. */
export function findingClass(rule: string): FindingClass {
  return kindOf(rule)?.class ?? 'code';
}

/** The one way to make a finding: its severity comes from the table. */
export function finding(rule: FindingRule, message: string, location?: string): Finding {
  return { severity: severityOf(rule), rule, message, ...(location !== undefined && { location }) };
}
