import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: each workspace package resolves to its src/index.ts,
// so a test never depends on a stale dist/.
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@ferry/formats': src('formats'),
      '@ferry/serving-api': src('serving-api'),
      '@ferry/convert': src('convert'),
      '@ferry/torchscript': src('torchscript'),
      '@ferry/serve': src('serve'),
      '@ferry/registry-client': src('registry-client'),
      '@ferry/registry': src('registry'),
      '@ferry/bundle': src('bundle'),
      '@ferry/optimize': src('optimize'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // kills any server process a failed test left running (scripts/test/children.ts)
    globalSetup: ['scripts/test/global-setup.ts'],
  },
});
