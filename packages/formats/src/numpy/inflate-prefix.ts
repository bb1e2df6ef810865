import { createInflateRaw } from 'node:zlib';

/**
 * The first `want` bytes of a raw-deflate stream, inflating no more than that plus one output
 * chunk: enough to read an .npy header inside a compressed .npz member without inflating the
 * member (a bomb cannot make this allocate more than `want` + 16 KiB).
 */
export function inflatePrefix(compressed: Uint8Array, want: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const inflater = createInflateRaw({ chunkSize: 16 * 1024 });
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      inflater.destroy();
      resolve(new Uint8Array(Buffer.concat(chunks)).subarray(0, Math.min(total, want)));
    };
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      total += chunk.length;
      if (total >= want) finish();
    });
    inflater.on('end', finish);
    inflater.on('error', (error) => {
      if (settled) return;
      // A stream cut short (we handed over only a prefix of the member) is not an error here.
      if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') finish();
      else {
        settled = true;
        reject(error);
      }
    });
    inflater.end(compressed);
  });
}
