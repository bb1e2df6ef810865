import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Preact's automatic JSX runtime through Vite's built-in transform (no plugin needed).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything is served by the registry itself: no CDN, no external fonts.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
});
