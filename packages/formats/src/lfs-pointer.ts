/**
 * A git-LFS pointer: the few lines git leaves in place of a large file when LFS objects were not
 * fetched (a clone without `git lfs pull`, a hub repository copied with plain git). Tools see
 * text where a model should be; issue #18 met them among files from the wild. Grammar from the
 * Git LFS spec (git-lfs docs/spec.md, "The Pointer"): at most 1024 bytes of UTF-8 `key value\n`
 * lines, `version https://git-lfs.github.com/spec/v1` first, then keys in order, with
 * `oid sha256:<64 hex>` and `size <bytes>` required.
 */
export interface LfsPointer {
  readonly oid: string;
  readonly size: number;
}

/** The spec caps a pointer at 1024 bytes; anything longer is not one. */
export const MAX_LFS_POINTER_BYTES = 1024;
const VERSION = 'version https://git-lfs.github.com/spec/v1';

/** The pointer `head` holds when it is the whole file (`fileSize`), else undefined. */
export function lfsPointer(head: Uint8Array, fileSize: number): LfsPointer | undefined {
  if (fileSize > MAX_LFS_POINTER_BYTES || head.length < fileSize) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, fileSize));
  } catch {
    return undefined;
  }
  if (!text.startsWith(`${VERSION}\n`) || !text.endsWith('\n')) return undefined;
  const fields = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n').slice(1)) {
    const space = line.indexOf(' ');
    if (space <= 0) return undefined;
    fields.set(line.slice(0, space), line.slice(space + 1));
  }
  const oid = /^sha256:([0-9a-f]{64})$/.exec(fields.get('oid') ?? '')?.[1];
  const size = fields.get('size') ?? '';
  if (oid === undefined || !/^\d{1,15}$/.test(size)) return undefined;
  return { oid, size: Number(size) };
}

/** The reason an LFS pointer is not the model, for FERRY_UNKNOWN_FORMAT. */
export function lfsPointerReason(pointer: LfsPointer): string {
  return `a git-LFS pointer to a ${pointer.size}-byte file (oid sha256:${pointer.oid}), not the file itself: fetch it with \`git lfs pull\` or from the hub`;
}
