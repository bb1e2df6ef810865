/**
 * libtorch's error text reduced to the one line that names the cause. A failure inside forward()
 * comes back as "The following operation failed in the TorchScript interpreter." followed by two
 * tracebacks; the cause ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 8x16)",
 * "builtins.ValueError: ...") is the last line (torch/csrc/jit/runtime/interpreter.cpp,
 * handleError). Every other libtorch error puts its cause on the first line.
 */
const INTERPRETER_PREFIX = 'The following operation failed in the TorchScript interpreter';
/** A one-line message longer than this is cut: libtorch can print whole schemas (CWE-400 in logs). */
export const MAX_MESSAGE_CHARS = 1000;

export function torchMessageLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return 'libtorch gave no message';
  const line = lines[0]!.startsWith(INTERPRETER_PREFIX) ? lines[lines.length - 1]! : lines[0]!;
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}...` : line;
}
