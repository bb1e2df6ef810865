import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The UI takes the registry's wire types from @ferry/registry-client but none of its code: a value
 * import would make vite bundle the Node client (node:http, node:fs) into the page. Every line
 * that names the package must be `import type` or `export type`.
 */
const SRC = fileURLToPath(new URL('.', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the UI imports only types from @ferry/registry-client', () => {
  it('every statement naming the package is type-only, and api.ts has some', () => {
    const statements = sources(SRC).flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(/^(import|export)\b[^;]*?from '@ferry\/registry-client';/gms),
      ].map((m) => ({ file, text: m[0] })),
    );
    expect(statements.some((s) => s.file.endsWith('api.ts'))).toBe(true);
    const valued = statements.filter((s) => !/^(import|export) type\b/.test(s.text));
    expect(valued).toEqual([]);
  });
});
