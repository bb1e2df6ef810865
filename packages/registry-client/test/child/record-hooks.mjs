// Module-loader hooks that append every module URL the loader resolves to the file named by
// FERRY_RECORD_IMPORTS, one per line: the list of what an import really loaded (hooks run on the
// loader's thread, so a synchronous append is the simplest way to get the list out, in order).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.FERRY_RECORD_IMPORTS, `${result.url}\n`);
  return result;
}
