import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** packages/ui/dist, seen from packages/registry/{src,dist}/api/. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

/** Files served from the UI folder: a built UI has a few dozen; more means a wrong folder. */
const MAX_UI_FILES = 1000;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Serves the built web UI at `/`. The folder is listed once at start and only those files are
 * served (a request path is a key into that list, never joined onto a folder: no path escape).
 * Vite puts content hashes in asset names, so assets are cached for a year; index.html is
 * revalidated every time. A missing folder is not fatal: `/` then says how to build it.
 */
export async function uiRoutes(
  app: FastifyInstance,
  dir: string,
  log: (line: string) => void,
): Promise<boolean> {
  const files = await listFiles(dir);
  const hasIndex = files?.has('index.html') === true;
  if (!hasIndex) {
    const hint = `the web UI is not built (${join(dir, 'index.html')} is missing): run \`npm run build\` (or \`npx vite build packages/ui\`) in the ferry checkout`;
    log(`ferry registry: ${hint}; the API works without it`);
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${hint}\n`),
    );
    return false;
  }
  const send =
    (path: string, immutable: boolean) =>
    async (_request: unknown, reply: import('fastify').FastifyReply) => {
      const file = files!.get(path)!;
      return reply
        .type(TYPES[extname(path)] ?? 'application/octet-stream')
        .header('content-length', file.size)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(createReadStream(file.absolute));
    };
  const page = send('index.html', false);
  app.get('/', { schema: { hide: true } }, async (request, reply) =>
    page(request, reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer')),
  );
  for (const path of files!.keys()) {
    if (path === 'index.html') continue;
    app.get(
      `/${path.split('/').map(encodeURIComponent).join('/')}`,
      { schema: { hide: true } },
      send(path, path.startsWith('assets/')),
    );
  }
  return true;
}

/**
 * The page runs only its own scripts and styles and talks only to its own origin, except for the
 * deployments page, which reads an inference server's /metrics (connect-src *: that URL is data,
 * never code). No inline scripts, so an injected <script> could not run even if markup slipped in.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src *; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

async function listFiles(dir: string): Promise<Map<string, { absolute: string; size: number }> | undefined> {
  const out = new Map<string, { absolute: string; size: number }>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const absolute = join(folder, entry.name);
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isFile()) {
        if (out.size >= MAX_UI_FILES) throw new Error(`${dir} holds more than ${MAX_UI_FILES} files`);
        out.set(relative(dir, absolute).split(sep).join('/'), {
          absolute,
          size: (await stat(absolute)).size,
        });
      }
    }
  };
  try {
    await walk(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return out;
}
