import { readFileSync } from 'node:fs';
import { BUNDLE_ERRORS, isBundleError } from '@ferry/bundle';
import { CONVERT_ERRORS, isConvertError } from '@ferry/convert';
import {
  ERRORS,
  codeHasPrefix,
  type ErrorSpec,
  FerryError,
  isFerryError,
  isFormatsError,
} from '@ferry/formats';
import { isOptimizeError, OPTIMIZE_ERRORS } from '@ferry/optimize';
import { isRegistryError, REGISTRY_ERRORS, RemoteRegistryError } from '@ferry/registry-client';
import { isServeError, SERVE_ERRORS } from '@ferry/serve';
import { isTorchScriptError, TORCHSCRIPT_ERRORS } from '@ferry/torchscript';
import { describe, expect, it } from 'vitest';
import { CLI_ERRORS, isCliErrorCode } from '../src/cli-errors.js';

/**
 * The one docs test for every package's error table (fastify's test/internals/errors.test.js is
 * the model): every code of every table is documented in docs/errors.md under its package's
 * section, and every code documented there exists in that package's table. It lives in the CLI's
 * tests because the CLI may import every package.
 */
const TABLES: readonly {
  /** The `## ` heading of the package's section in docs/errors.md. */
  section: string;
  table: Record<string, ErrorSpec>;
  /** The prefix(es) the package's codes live in (its defineErrors call). */
  prefix: string | readonly string[];
  /** The package's own type guard. */
  is: (value: unknown) => boolean;
}[] = [
  { section: '@ferry/formats', table: ERRORS, prefix: 'FERRY_', is: isFormatsError },
  {
    section: '@ferry/convert',
    table: CONVERT_ERRORS,
    prefix: ['FERRY_CONVERT_', 'FERRY_ONNX_REPLACE_', 'FERRY_TF2ONNX_', 'FERRY_SKLEARN_NOT_ESTIMATOR'],
    is: isConvertError,
  },
  {
    section: '@ferry/optimize',
    table: OPTIMIZE_ERRORS,
    prefix: ['FERRY_OPTIMIZE_', 'FERRY_QUANTIZE_', 'FERRY_FP16_'],
    is: isOptimizeError,
  },
  { section: '@ferry/serve', table: SERVE_ERRORS, prefix: 'FERRY_SERVE_', is: isServeError },
  {
    section: '@ferry/torchscript',
    table: TORCHSCRIPT_ERRORS,
    prefix: 'FERRY_TORCHSCRIPT_',
    is: isTorchScriptError,
  },
  { section: '@ferry/bundle', table: BUNDLE_ERRORS, prefix: 'FERRY_BUNDLE_', is: isBundleError },
  // the registry's codes are declared in @ferry/registry-client and documented under the server
  { section: '@ferry/registry', table: REGISTRY_ERRORS, prefix: 'FERRY_REGISTRY_', is: isRegistryError },
  // the CLI's own codes (a command line it cannot run): a plain table, reported by report-error.ts
  {
    section: 'ferry',
    table: CLI_ERRORS,
    prefix: 'FERRY_CLI_',
    is: (value) => isCliErrorCode((value as { code?: unknown } | null)?.code),
  },
];

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** docs/errors.md split at its `## ` headings: section name -> the codes documented under it. */
function documentedBySection(text: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current = '';
  for (const line of text.split('\n')) {
    const heading = /^## (\S+)/.exec(line);
    if (heading) current = heading[1]!;
    const code = /^#### (\S+)\s*$/.exec(line);
    if (code) {
      if (!sections.has(current)) sections.set(current, new Set());
      sections.get(current)!.add(code[1]!);
    }
  }
  return sections;
}

const documented = documentedBySection(docs);
const everyCode = TABLES.flatMap(({ section, table }) =>
  Object.keys(table).map((code) => [section, code] as const),
);

describe('error codes and docs/errors.md', () => {
  it.each(everyCode)('%s %s is documented in its package section', (section, code) => {
    expect(documented.get(section)?.has(code)).toBe(true);
  });

  const documentedCodes = [...documented].flatMap(([section, codes]) =>
    [...codes].map((code) => [section, code] as const),
  );
  it.each(documentedCodes)('%s %s (documented) is a code of that package', (section, code) => {
    const owner = TABLES.find((t) => t.section === section);
    expect(owner, `docs/errors.md has a section ${section} that no table backs`).toBeDefined();
    expect(Object.keys(owner!.table)).toContain(code);
  });

  it('documents each code once', () => {
    const headings = [...docs.matchAll(/^#### (\S+)\s*$/gm)].map((m) => m[1]!);
    expect(headings.filter((code, i) => headings.indexOf(code) !== i)).toEqual([]);
  });
});

describe('every table over the one FerryError base', () => {
  it('codes are unique across packages and follow the naming rule', () => {
    const codes = everyCode.map(([, code]) => code);
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
    for (const code of codes) expect(code).toMatch(/^FERRY_[A-Z0-9_]+$/);
  });

  it.each(TABLES.map((t) => [t.section, t] as const))(
    "%s: every code has the table's prefix, a real HTTP status and a message",
    (_section, { table, prefix }) => {
      for (const [code, spec] of Object.entries(table)) {
        expect(codeHasPrefix(code, prefix), code).toBe(true);
        expect(spec.http).toBeGreaterThanOrEqual(400);
        expect(spec.http).toBeLessThan(600);
        expect(typeof spec.permanent).toBe('boolean');
        expect(spec.message.length).toBeGreaterThan(3);
      }
    },
  );

  it("each package's guard claims its own errors only, and isFerryError claims them all", async () => {
    const { ferryError } = await import('@ferry/formats');
    const { convertError } = await import('@ferry/convert');
    const { optimizeError } = await import('@ferry/optimize');
    const { serveError } = await import('@ferry/serve');
    const { torchscriptError } = await import('@ferry/torchscript');
    const { bundleError } = await import('@ferry/bundle');
    const { registryError } = await import('@ferry/registry-client');
    const made = [
      ferryError('FERRY_IO', { path: 'p', reason: 'r' }),
      convertError('FERRY_CONVERT_OPAQUE', { path: 'p', count: 1, names: 'n' }),
      optimizeError('FERRY_OPTIMIZE_DATA', { path: 'p', what: 'w', rule: 'r' }),
      serveError('FERRY_SERVE_BAD_REQUEST', { reason: 'r' }),
      torchscriptError('FERRY_TORCHSCRIPT_INPUT', { input: 'x', reason: 'r' }),
      bundleError('FERRY_BUNDLE_IO', { path: 'p', reason: 'r' }),
      registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name: 'n' }),
    ];
    made.forEach((error, i) => {
      expect(error).toBeInstanceOf(FerryError);
      expect(isFerryError(error)).toBe(true);
      expect(TABLES.map((t) => t.is(error))).toEqual(TABLES.map((_, j) => j === i));
    });
  });

  it("a registry error rebuilt from the wire is a FerryError with the server's code", () => {
    const remote = new RemoteRegistryError('FERRY_REGISTRY_CONFLICT', 'model m: exists', 409);
    expect(isFerryError(remote)).toBe(true);
    expect([remote.code, remote.message, remote.http, remote.permanent]).toEqual([
      'FERRY_REGISTRY_CONFLICT',
      'model m: exists',
      409,
      true,
    ]);
    expect(new RemoteRegistryError('FERRY_REGISTRY_RATE_LIMITED', 'later', 429).permanent).toBe(false);
    expect(new RemoteRegistryError('FERRY_REGISTRY_HTTP', 'proxy {page}', 502).message).toBe('proxy {page}');
    expect(isFerryError(Object.assign(new Error('x'), { code: 'FERRY_IO' }))).toBe(false);
  });
});
