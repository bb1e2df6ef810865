/**
 * The ferry side of `npm run bench -- pickle`, run in its own process so its peak RSS is its
 * own: opens the checkpoint (scan + inspect) and streams every tensor into a safetensors file,
 * tensor by tensor (reading the next while writing this one). Prints seconds and peak RSS as JSON.
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
// Read the next tensor while this one is written: at most two tensors in memory.
let next = tensors.length > 0 ? readTensorBytes(tensors[0]!) : undefined;
for (let i = 0; i < tensors.length; i++) {
  const bytes = await next!;
  next = i + 1 < tensors.length ? readTensorBytes(tensors[i + 1]!) : undefined;
  await file.write(bytes);
}
await file.close();
await model.close();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ seconds, maxrss: process.resourceUsage().maxRSS * 1024 }));
