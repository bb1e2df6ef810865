import { readFileSync } from 'node:fs';

/** ferry's version, from the CLI package's package.json (src/ and dist/ both sit one level below it). */
export function ferryVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
