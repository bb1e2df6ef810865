// Resolves @ferry/* to the packages' TypeScript sources in child processes, as vitest.config.ts
// does for the test process, so a child never runs a stale dist/.
const packages = new URL('../../../', import.meta.url);

export async function resolve(specifier, context, next) {
  const match = /^@ferry\/(formats|registry-client|registry|serve)$/.exec(specifier);
  if (match) return next(new URL(`${match[1]}/src/index.ts`, packages).href, context);
  return next(specifier, context);
}
