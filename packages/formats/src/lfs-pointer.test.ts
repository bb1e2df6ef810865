import { describe, expect, it } from 'vitest';
import { lfsPointer, MAX_LFS_POINTER_BYTES } from './lfs-pointer.js';

// The pointer from the Git LFS spec (git-lfs docs/spec.md, "The Pointer").
const SPEC = `version https://git-lfs.github.com/spec/v1
oid sha256:4d7a214614ab2935c943f9e0ff69f22eadbb8f32b1258daaa5e2ca24d17e2393
size 12345
`;
const bytes = (text: string) => new TextEncoder().encode(text);
const read = (text: string) => lfsPointer(bytes(text), bytes(text).length);

describe('lfsPointer', () => {
  it("reads the spec's example", () => {
    expect(read(SPEC)).toEqual({
      oid: '4d7a214614ab2935c943f9e0ff69f22eadbb8f32b1258daaa5e2ca24d17e2393',
      size: 12345,
    });
  });

  it('accepts extension keys between version and oid (spec: keys sorted, unknown keys kept)', () => {
    const withExt = SPEC.replace('\noid', '\next-0-foo sha256:00\noid');
    expect(read(withExt)?.size).toBe(12345);
  });

  it('refuses what is not a whole pointer', () => {
    expect(read(SPEC.slice(0, -1))).toBeUndefined(); // no final newline
    expect(read(SPEC.replace('spec/v1', 'spec/v2'))).toBeUndefined();
    expect(read(SPEC.replace('sha256:4d', 'sha256:4D'))).toBeUndefined();
    expect(read(SPEC.replace('size 12345', 'size -1'))).toBeUndefined();
    expect(read(SPEC.replace('size 12345\n', ''))).toBeUndefined();
    expect(read(`${SPEC}${'x'.repeat(MAX_LFS_POINTER_BYTES)}\n`)).toBeUndefined();
    // only a prefix seen: the file is longer than the bytes given
    expect(lfsPointer(bytes(SPEC), bytes(SPEC).length + 10)).toBeUndefined();
  });
});
