import { readFile } from 'node:fs/promises';
import { BufferSource, writeSafetensors } from '@ferry/formats';

/**
 * Writes a safetensors file of these tensors (F32, named layer.0, layer.1, ... in order) and
 * answers its bytes: the dedup tests' models, where which tensors change between versions is the
 * point.
 */
export async function writeModel(path: string, tensors: readonly Buffer[]): Promise<Buffer> {
  const source = new BufferSource(Buffer.concat(tensors));
  let offset = 0;
  await writeSafetensors(
    path,
    tensors.map((t, i) => {
      const ref = {
        name: `layer.${i}`,
        dtype: 'F32' as const,
        shape: [t.length / 4],
        source,
        offset,
        byteLength: t.length,
      };
      offset += t.length;
      return ref;
    }),
  );
  return readFile(path);
}
