/**
 * The ferry side of `npm run bench -- pickle`, run in its own process so its peak RSS is its
 * own: opens the checkpoint (scan + inspect) and streams every tensor into a safetensors file,
 * tensor by tensor, as the converter does. Prints seconds and peak RSS as JSON.
 */
import { open } from 'node:fs/promises';
import { openModel, readTensorBytes } from '../../../packages/formats/src/index.js';

const [path, out] = process.argv.slice(2) as [string, string];
const start = process.hrtime.bigint();
const model = await openModel(path);
const tensors = [...model.tensors].sort((a, b) => (a.name < b.name ? -1 : 1));
const header: Record<string, unknown> = {};
let offset = 0;
for (const t of tensors) {
  const size = t.shape.reduce((a, b) => a * b, 1) * 4;
  header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
  offset += size;
}
let text = JSON.stringify(header);
text += ' '.repeat((8 - (text.length % 8)) % 8);
const file = await open(out, 'w');
const length = Buffer.alloc(8);
length.writeBigUInt64LE(BigInt(text.length));
await file.write(length);
await file.write(text);
for (const t of tensors) await file.write(await readTensorBytes(t));
await file.close();
await model.close();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ seconds, maxrss: process.resourceUsage().maxRSS * 1024 }));
