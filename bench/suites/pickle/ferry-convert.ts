/**
 * The ferry side of `npm run bench -- pickle`, run in its own process so its peak RSS is its
 * own: `convertToSafetensors` (scan, open, stream every tensor into the output). Prints seconds
 * and peak RSS as JSON.
 */
import { convertToSafetensors } from '@ferry/convert';

const [path, out] = process.argv.slice(2) as [string, string];
const start = process.hrtime.bigint();
await convertToSafetensors(path, out);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ seconds, maxrss: process.resourceUsage().maxRSS * 1024 }));
