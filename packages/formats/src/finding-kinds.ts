/**
 * Every kind of finding a scanner reports (its `rule`), and which verdict it can lead to
 * (issue #18: "unsafe" must mean the file can run code, touch files or the network when loaded;
 * a file that is merely invalid or non-standard is `invalid`). The severity of each finding is
 * the scanner's; the class here says only what a serious one (medium and above, verdict.ts)
 * means. docs/security.md shows this table; a rule missing here counts as `code` (fail closed),
 * and a test checks every rule the scanners emit is listed.
 *
 * - `code`: loading runs code, or reads or writes files or the network.
 * - `hidden`: a part a loader would run cannot be scanned, or loaders disagree on what the file
 *   holds, so what runs was not shown harmless (the constructions used to slip pickles past
 *   scanners). Judged like `code`.
 * - `invalid`: the file breaks its format's rules or is non-standard: a loader may refuse it or
 *   read it differently, but nothing in it runs.
 * - `note`: a fact worth showing that says nothing about safety or validity.
 */
export type FindingClass = 'code' | 'hidden' | 'invalid' | 'note';

export const FINDING_KINDS: Readonly<Record<string, FindingClass>> = {
  // --- pickle machine and allowlist (pickle, joblib, PyTorch, NumPy object arrays)
  'dangerous-call': 'code', // calls os.system, builtins.eval, ...
  'unresolvable-call': 'code', // calls a global whose name is computed at load
  'unknown-call': 'code', // calls a global that is not a known data reconstructor
  'indirect-call': 'code', // calls the result of another call
  'odd-call': 'code', // REDUCE/NEWOBJ on something that is not a global
  'dangerous-global': 'code', // GLOBAL imports the module (import runs its code)
  'unknown-global': 'code', // likewise: find_class imports an unknown module
  'unresolvable-global': 'code',
  'global-mutation': 'code', // BUILD/SETITEM on a module-level object
  'extension-registry': 'code', // EXT1/2/4 name a global from copyreg's registry
  'out-of-band-buffer': 'invalid', // NEXT_BUFFER: pickle.load refuses it without caller buffers
  'trailing-data': 'invalid', // bytes after what the loader reads
  'npy-object-array': 'code', // np.load(allow_pickle=True) unpickles it (the pickle is judged too)
  'npy-trailing-data': 'invalid',
  'torchscript-code': 'code', // TorchScript source compiled by torch.jit.load (info: no imports)
  'member-not-scanned': 'note', // data members no loader unpickles
  'unreadable-pickle': 'hidden', // our machine cannot read a member CPython might still run
  // --- zip containers (PyTorch, npz, joblib-in-zip): how readers disagree (docs/security.md)
  'zip-prefix-data': 'hidden', // a pickle loader reads the prefix, a zip loader the rest
  'zip-name-mismatch': 'hidden', // local and central names differ: readers load other files
  'zip-local-mismatch': 'hidden', // local and central sizes/methods differ: other bytes
  'zip-differential': 'hidden', // zip readers list different members
  'zip-duplicate-name': 'hidden', // readers pick different members of one name
  'zip-encrypted': 'hidden', // contents cannot be scanned
  'zip-compression': 'hidden', // a method the scanner cannot inflate: not scanned
  'zip-nesting': 'hidden', // nested deeper than scanned
  'zip-overlap': 'invalid', // two members share bytes (the overlapping zip bomb); each is scanned
  'zip-bad-crc': 'invalid', // strict readers refuse, others load the same bytes
  'zip-odd-flags': 'invalid',
  // --- PyTorch legacy tar
  'tar-link': 'code', // tarfile.extract writes a link or device: touches files
  'tar-extra-member': 'note',
  // --- more than one format parses: every reading is scanned and its findings count on their own
  polyglot: 'invalid',
  // --- SavedModel graph ops (savedmodel/findings.ts)
  'savedmodel-python-op': 'code', // py_func: calls back into Python
  'savedmodel-file-write-op': 'code',
  'savedmodel-file-read-op': 'code',
  'savedmodel-external-io-op': 'code',
  'savedmodel-remote-op': 'code', // network
  'savedmodel-asset-read-op': 'code', // reads its own assets (low: inside the model folder)
  'savedmodel-asset-path': 'code', // an asset path leading out of the folder
  'savedmodel-checkpoint-op': 'code', // restores its own variables (info)
  // --- files beside a model
  'source-code': 'code', // transformers runs it with trust_remote_code=True
  // --- GGUF
  'gguf-removed-type': 'invalid', // a ggml type current llama.cpp no longer loads
  'gguf-data-gap': 'invalid',
  // --- ONNX checker (onnx/check.ts, as onnx.checker.check_model): graph structure only; ONNX
  // runs no code of its own, and external data leaving the model folder is a load error
  'onnx-check/opset-missing': 'invalid', // a domain used without an opset import (custom ops)
  'onnx-check/metadata-key-duplicate': 'invalid',
  'onnx-check/graph-missing': 'invalid',
  'onnx-check/graph-name-empty': 'invalid',
  'onnx-check/ssa': 'invalid',
  'onnx-check/initializer-name-empty': 'invalid',
  'onnx-check/initializer-name-duplicate': 'invalid',
  'onnx-check/op-type-empty': 'invalid',
  'onnx-check/topological-order': 'invalid',
  'onnx-check/undefined-input': 'invalid',
  'onnx-check/undefined-output': 'invalid',
};

/** The class of a finding's rule; an unlisted rule is `code`, so a new scanner fails closed. */
export function findingClass(rule: string): FindingClass {
  return Object.hasOwn(FINDING_KINDS, rule) ? FINDING_KINDS[rule]! : 'code';
}
