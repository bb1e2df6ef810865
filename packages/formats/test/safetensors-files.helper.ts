/** Helpers for the safetensors tests: build files in memory, find the committed fixtures. */
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/safetensors/', import.meta.url));

/** A safetensors file from a header string (used verbatim) and data bytes. */
export function buildFile(
  header: string | Uint8Array,
  data: Uint8Array | number = 0,
  lengthOverride?: bigint,
): Uint8Array {
  const headerBytes = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + headerBytes.length + dataBytes.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(dataBytes, 8 + headerBytes.length);
  return out;
}

/** A header from tensor infos; `extra` is spliced in verbatim. */
export function headerOf(tensors: Record<string, unknown>, extra = ''): string {
  const body = Object.entries(tensors)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',');
  return `{${extra}${extra && body ? ',' : ''}${body}}`;
}
