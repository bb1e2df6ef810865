/**
 * ARCHITECTURE.md's dependency rules, read from the sources (issue #17). Each rule lists every
 * violation as `file:line rule`, so a failure says what to change; KNOWN lists the few that are
 * left on purpose, each with its reason.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, scanImportGraph } from './import-graph.helper.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const graph = scanImportGraph(root);

type Kind = 'format' | 'library' | 'engine' | 'app';
const KINDS: Record<string, Kind> = {
  formats: 'format',
  convert: 'library',
  optimize: 'library',
  'serving-api': 'library',
  'registry-client': 'library',
  torchscript: 'engine',
  serve: 'engine',
  registry: 'engine',
  bundle: 'engine',
  cli: 'app',
  ui: 'app',
};
/** The one arrow between engines (ARCHITECTURE.md rule 3). */
const ENGINE_ARROWS = new Set(['serve->torchscript']);

/**
 * Source files over 600 lines that a generator writes (never edited by hand), each with its
 * generator. None today: the committed protobuf schemas and the pickle allowlist tables are smaller.
 */
const GENERATED: Record<string, string> = {};

/**
 * Violations left on purpose, each with why. Keep this short: every entry is work to do.
 * Keys are the violation text without its line number (`file rule`).
 */
const KNOWN: Record<string, string> = {};

/** Packages that need a runtime or open a server: a test importing them lives in test/. */
const RUNTIME_PACKAGES = new Set([
  '@ferry/torchscript',
  'onnxruntime-node',
  'fastify',
  'node:http',
  'node:https',
  'node:net',
  'http',
  'https',
  'net',
]);
/** A committed fixture (`fixtures/...`) or the shared corpus (`shared/fixtures`). */
const FIXTURE_PATH = /(^|[^\w-])fixtures\//;
const source = (path: string) => readFileSync(join(root, path), 'utf8');

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readJson = (path: string) =>
  JSON.parse(readFileSync(new URL(path, `file://${root}`), 'utf8')) as PackageJson;
const manifests = new Map<string, PackageJson>(
  Object.keys(KINDS).map((pkg) => [pkg, readJson(`packages/${pkg}/package.json`)]),
);
const rootManifest = readJson('package.json');

const at = (edge: ImportEdge) => `${edge.from.path}:${edge.line}`;
const ferryPkg = (name: string | undefined) =>
  name?.startsWith('@ferry/') ? name.slice('@ferry/'.length) : undefined;

const seenKnown = new Set<string>();
/** Drops KNOWN entries (matched without the line number), remembering which ones still happen. */
function unexplained(violations: string[]): string[] {
  return violations.filter((violation) => {
    const key = violation.replace(/:\d+ /, ' ');
    if (!(key in KNOWN)) return true;
    seenKnown.add(key);
    return false;
  });
}

describe('the import scanner', () => {
  it('reads static, re-export, dynamic, require and type-only imports, and not comments or strings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-arch-'));
    try {
      mkdirSync(join(dir, 'packages/a/src'), { recursive: true });
      mkdirSync(join(dir, 'packages/b/src'), { recursive: true });
      writeFileSync(join(dir, 'packages/b/src/index.ts'), 'export const b = 1;\n');
      writeFileSync(
        join(dir, 'packages/a/src/x.ts'),
        [
          "import fs from 'node:fs';",
          "import type { T } from '@ferry/types-only';",
          "import { type U, type V } from '@ferry/named-types';",
          "import { w, type W } from '@ferry/mixed';",
          "export * from '../../b/src/index.js';",
          "export type { Z } from 'zod';",
          "const later = await import('@scope/pkg/deep/path');",
          "const old = require('left-pad');",
          "type Q = import('@ferry/typed').Q;",
          "// import { nope } from '@ferry/comment';",
          'const text = "import { nope } from \'@ferry/string\'";',
        ].join('\n'),
      );
      const { edges } = scanImportGraph(dir);
      const seen = edges.map((edge) => [
        edge.line,
        edge.packageName ?? edge.targetPkg,
        edge.typeOnly,
        edge.builtin,
      ]);
      expect(seen).toEqual([
        [1, undefined, false, true],
        [2, '@ferry/types-only', true, false],
        [3, '@ferry/named-types', true, false],
        [4, '@ferry/mixed', false, false],
        [5, 'b', false, false],
        [6, 'zod', true, false],
        [7, '@scope/pkg', false, false],
        [8, 'left-pad', false, false],
        [9, '@ferry/typed', true, false],
      ]);
      expect(edges[4]).toMatchObject({ target: 'packages/b/src/index.ts', targetArea: 'src' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ARCHITECTURE.md dependency rules', () => {
  it('scans the whole tree (a broken scanner passes every rule)', () => {
    expect(graph.files.length).toBeGreaterThan(500);
    expect(graph.edges.length).toBeGreaterThan(2000);
    expect(graph.edges.filter((edge) => ferryPkg(edge.packageName) === 'formats').length).toBeGreaterThan(50);
    for (const pkg of Object.keys(KINDS)) expect(graph.files.some((file) => file.pkg === pkg)).toBe(true);
  });

  it('rule 1: formats imports no @ferry package and has no runtime dependencies', () => {
    const violations = graph.edges
      .filter((edge) => edge.from.pkg === 'formats' && ferryPkg(edge.packageName) !== undefined)
      .map((edge) => `${at(edge)} rule 1: formats imports ${edge.specifier}`);
    const deps = Object.keys(manifests.get('formats')?.dependencies ?? {});
    if (deps.length > 0)
      violations.push(`packages/formats/package.json rule 1: dependencies ${deps.join(', ')}`);
    expect(unexplained(violations)).toEqual([]);
  });

  it('rule 2: libraries import only @ferry/formats of ours', () => {
    const violations = graph.edges
      .filter((edge) => KINDS[edge.from.pkg] === 'library')
      .filter((edge) => {
        const target = ferryPkg(edge.packageName);
        return target !== undefined && target !== 'formats' && target !== edge.from.pkg;
      })
      .map((edge) => `${at(edge)} rule 2: library ${edge.from.pkg} imports ${edge.specifier}`);
    expect(unexplained(violations)).toEqual([]);
  });

  it('rule 3: engine sources import libraries, never another engine except serve -> torchscript', () => {
    const violations = graph.edges
      .filter((edge) => KINDS[edge.from.pkg] === 'engine' && !edge.from.isTest)
      .filter((edge) => {
        const target = ferryPkg(edge.packageName);
        if (target === undefined || target === edge.from.pkg) return false;
        const kind = KINDS[target];
        if (kind === 'app') return true;
        return kind === 'engine' && !ENGINE_ARROWS.has(`${edge.from.pkg}->${target}`);
      })
      .map((edge) => `${at(edge)} rule 3: engine ${edge.from.pkg} imports ${edge.specifier}`);
    expect(unexplained(violations)).toEqual([]);
  });

  it('rule 4: ui sources import only types, and only from @ferry/registry-client', () => {
    const violations = graph.edges
      .filter(
        (edge) => edge.from.pkg === 'ui' && !edge.from.isTest && ferryPkg(edge.packageName) !== undefined,
      )
      .filter((edge) => edge.packageName !== '@ferry/registry-client' || !edge.typeOnly)
      .map(
        (edge) => `${at(edge)} rule 4: ui imports ${edge.typeOnly ? '' : 'values from '}${edge.specifier}`,
      );
    expect(unexplained(violations)).toEqual([]);
  });

  it('every relative import names a file that exists (a moved file leaves no import behind)', () => {
    const violations = graph.edges
      .filter((edge) => edge.specifier.startsWith('.') && edge.target === undefined)
      // files the scanner does not read as sources: JavaScript, JSON, native addons
      .filter(
        (edge) =>
          !/\.(mjs|cjs|json|node)$/.test(edge.specifier) ||
          !existsSync(join(root, edge.from.path, '..', edge.specifier)),
      )
      .map((edge) => `${at(edge)} imports: ${edge.specifier} does not exist`);
    expect(violations).toEqual([]);
  });

  it("rule 5: nobody imports another package's files by path, nor a test helper from outside its test/", () => {
    const violations: string[] = [];
    for (const edge of graph.edges) {
      const from = edge.from;
      const target = ferryPkg(edge.packageName);
      if (target !== undefined && edge.specifier !== edge.packageName) {
        violations.push(`${at(edge)} rule 5: deep import ${edge.specifier} (import the package name)`);
      }
      if (edge.targetPkg === undefined) continue;
      // scripts/test/: the repository's shared test and bench machinery (child processes,
      // docker-registry, PostgreSQL, an SSTable writer)
      const sharedMachinery = edge.targetPkg === 'root' && edge.target?.startsWith('scripts/test/');
      if (sharedMachinery && (from.isTest || from.pkg === 'bench')) continue;
      if (edge.targetPkg !== from.pkg) {
        violations.push(
          `${at(edge)} rule 5: ${from.pkg} imports ${edge.targetPkg}'s files by path ${edge.specifier}`,
        );
      } else if (edge.targetArea === 'test' && !from.isTest) {
        violations.push(
          `${at(edge)} rule 5: ${from.path} (${from.area}) imports test/ file ${edge.specifier}`,
        );
      } else if (edge.targetArea === 'src' && !from.isTest && edge.target?.match(/\.helper\.tsx?$/)) {
        violations.push(`${at(edge)} rule 5: source imports test helper ${edge.specifier}`);
      }
    }
    expect(unexplained(violations)).toEqual([]);
  });

  it('rule 6: every package a file imports is declared in its package.json', () => {
    const rootDev = rootManifest.devDependencies ?? {};
    const violations: string[] = [];
    for (const edge of graph.edges) {
      const name = edge.packageName;
      if (name === undefined) continue;
      const from = edge.from;
      if (from.pkg === 'bench') {
        // bench/ has no package.json: it may use workspace packages and the root's devDependencies.
        if (ferryPkg(name) === undefined && !(name in rootDev)) {
          violations.push(`${at(edge)} rule 6: bench imports ${name}, not in the root devDependencies`);
        }
        continue;
      }
      if (ferryPkg(name) === from.pkg) continue;
      const manifest = manifests.get(from.pkg) ?? {};
      const deps = manifest.dependencies ?? {};
      const declared = from.isTest
        ? name in deps || name in (manifest.devDependencies ?? {}) || name in rootDev
        : name in deps || (edge.typeOnly && name.startsWith('@types/'));
      if (!declared) {
        violations.push(
          `${at(edge)} rule 6: ${name} not in packages/${from.pkg}/package.json ${from.isTest ? 'dependencies or devDependencies' : 'dependencies'}`,
        );
      }
    }
    expect(unexplained(violations)).toEqual([]);
  });

  it('no hand-written source file over 600 lines', () => {
    const violations = graph.files
      .filter((file) => file.area === 'src' && !file.isTest && file.lines > 600 && !(file.path in GENERATED))
      .map((file) => `${file.path}:1 size: ${file.lines} lines (over 600: split it)`);
    expect(unexplained(violations)).toEqual([]);
  });

  it('no test helper in src/: nothing there is named a helper or imported only by tests', () => {
    const importers = new Map<string, ImportEdge[]>();
    for (const edge of graph.edges) {
      if (edge.target === undefined) continue;
      importers.set(edge.target, [...(importers.get(edge.target) ?? []), edge]);
    }
    const violations: string[] = [];
    for (const file of graph.files) {
      const name = file.path.split('/').pop() ?? '';
      // index.ts is the package's entry: other packages' tests and bench may be its only users
      if (file.area !== 'src' || file.isTest || name === 'index.ts') continue;
      if (/helper|fixture|test-util|testing/i.test(name)) {
        violations.push(
          `${file.path}:1 helpers: a test helper's name in src/ (move it to test/ as *.helper.ts)`,
        );
        continue;
      }
      const users = importers.get(file.path) ?? [];
      if (users.length > 0 && users.every((edge) => edge.from.isTest)) {
        violations.push(
          `${file.path}:1 helpers: imported only by tests (${[...new Set(users.map((edge) => edge.from.path))].join(', ')})`,
        );
      }
    }
    expect(unexplained(violations)).toEqual([]);
  });

  it("test helpers are named *.helper.ts in the package's test/", () => {
    const violations = graph.files
      .filter((file) => file.area === 'test' && !/\.(test|helper)\.tsx?$/.test(file.path))
      .map((file) => `${file.path}:1 helpers: a test helper not named *.helper.ts`);
    expect(unexplained(violations)).toEqual([]);
  });

  it('tests beside the code are pure: no runtime, server or fixture (those live in test/)', () => {
    // ARCHITECTURE.md "Files": a *.test.ts in src/ must run with nothing but the code beside it.
    const runtime = (edge: ImportEdge) =>
      RUNTIME_PACKAGES.has(edge.packageName ?? edge.specifier) ||
      (edge.targetPkg === 'torchscript' && /\/(addon|script-module)\.ts$/.test(edge.target ?? ''));
    const violations: string[] = [];
    for (const edge of graph.edges) {
      if (edge.from.area !== 'src' || !edge.from.isTest || edge.typeOnly) continue;
      if (runtime(edge))
        violations.push(`${at(edge)} pure tests: imports ${edge.specifier} (move it to test/)`);
      else if (edge.targetArea === 'test' && edge.names.some((name) => /fixture/i.test(name))) {
        violations.push(`${at(edge)} pure tests: ${edge.specifier} reads fixtures (move it to test/)`);
      }
    }
    for (const file of graph.files) {
      if (file.area !== 'src' || !file.isTest) continue;
      const line = source(file.path)
        .split('\n')
        .findIndex((text) => FIXTURE_PATH.test(text));
      if (line >= 0)
        violations.push(`${file.path}:${line + 1} pure tests: names a fixtures path (move it to test/)`);
    }
    expect(unexplained(violations)).toEqual([]);
  });

  it('every KNOWN entry still happens (delete the ones that are fixed)', () => {
    expect(Object.keys(KNOWN).filter((key) => !seenKnown.has(key))).toEqual([]);
  });
});

/**
 * Index exports no other package uses, left on purpose, each with why (`package: name`). Keep this
 * short: every entry is API surface nobody outside the package needs.
 */
const CLI_ENTRY =
  'cli is the app: no package imports it (rule 4); its index is the `ferry` npm package entry for ' +
  'callers outside the monorepo (main and EXIT run the CLI in-process; the types main takes)';
const DECLARATION_EMIT =
  "no package imports it by name, but other packages' emitted .d.ts must name it (TS2742 without it): " +
  'the types defineErrors returns, and the handler type convert registers';
const KNOWN_UNUSED_EXPORTS: Record<string, string> = {
  'formats: DefinedError': DECLARATION_EMIT,
  'formats: DefinedErrorClass': DECLARATION_EMIT,
  'formats: FormatHandler': DECLARATION_EMIT,
  'cli: Command': CLI_ENTRY,
  'cli: CliIO': CLI_ENTRY,
  'cli: EXIT': CLI_ENTRY,
  'cli: main': CLI_ENTRY,
};

/** Every name each package's src/index.ts exports, `export *` expanded by the TypeScript checker. */
function indexExports(): Map<string, string[]> {
  const roots = Object.keys(KINDS).map((pkg) => join(root, 'packages', pkg, 'src', 'index.ts'));
  const program = ts.createProgram(
    roots.filter((path) => existsSync(path)),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  const exports = new Map<string, string[]>();
  for (const pkg of Object.keys(KINDS)) {
    const file = program.getSourceFile(join(root, 'packages', pkg, 'src', 'index.ts'));
    const symbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    if (symbol === undefined) continue;
    exports.set(
      pkg,
      checker.getExportsOfModule(symbol).map((exported) => exported.name),
    );
  }
  return exports;
}

describe('ARCHITECTURE.md rule 5: each index.ts exports what other packages use', () => {
  it('the scanner records the exported names each import uses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-arch-names-'));
    try {
      mkdirSync(join(dir, 'packages/a/src'), { recursive: true });
      writeFileSync(
        join(dir, 'packages/a/src/x.ts'),
        [
          "import d, { b as local, type C } from '@ferry/one';",
          "import * as all from '@ferry/two';",
          "export { e } from '@ferry/three';",
          "export * as ns from '@ferry/four';",
          "const { f, g: h } = await import('@ferry/five');",
          "const i = (await import('@ferry/six')).i;",
          "type J = import('@ferry/seven').J.K;",
          "import '@ferry/eight';",
        ].join('\n'),
      );
      const names = scanImportGraph(dir).edges.map((edge) => [edge.specifier, edge.names]);
      expect(names).toEqual([
        ['@ferry/one', ['default', 'b', 'C']],
        ['@ferry/two', ['*']],
        ['@ferry/three', ['e']],
        ['@ferry/four', ['*']],
        ['@ferry/five', ['f', 'g']],
        ['@ferry/six', ['i']],
        ['@ferry/seven', ['J']],
        ['@ferry/eight', []],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every name an index exports is imported by another package (src, test or bench)', () => {
    const exports = indexExports();
    expect(exports.get('formats')?.length).toBeGreaterThan(20);
    const used = new Map<string, Set<string>>();
    for (const edge of graph.edges) {
      const target = ferryPkg(edge.packageName);
      if (target === undefined || target === edge.from.pkg) continue;
      const names = used.get(target) ?? new Set<string>();
      for (const name of edge.names) names.add(name);
      used.set(target, names);
    }
    const unused: string[] = [];
    const seen = new Set<string>();
    for (const [pkg, names] of exports) {
      const users = used.get(pkg) ?? new Set<string>();
      if (users.has('*')) continue;
      for (const name of names) {
        const key = `${pkg}: ${name}`;
        if (users.has(name)) continue;
        if (key in KNOWN_UNUSED_EXPORTS) seen.add(key);
        else unused.push(key);
      }
    }
    expect(unused).toEqual([]);
    expect(Object.keys(KNOWN_UNUSED_EXPORTS).filter((key) => !seen.has(key))).toEqual([]);
  });
});
