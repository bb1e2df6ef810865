/**
 * Reads every import of the monorepo's TypeScript (packages/*\/src, packages/*\/test, bench/) with
 * the TypeScript parser, so comments, strings and type-only forms are told apart exactly, and
 * maps each one to the package and area (src, test, bench) it points at. architecture.test.ts
 * checks ARCHITECTURE.md's dependency rules against this graph.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Where a file sits: a package's src (code or a test beside it), its test/, or bench/. */
export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  /** Package folder name (`formats`, `cli`, ...), or `bench`. */
  pkg: string;
  area: 'src' | 'test' | 'bench';
  /** A test or test helper: under test/, a `*.test.ts` beside the code, or anything in bench/. */
  isTest: boolean;
  lines: number;
}

export interface ImportEdge {
  from: SourceFile;
  line: number;
  specifier: string;
  /** `import type`, `export type`, every named binding `type`, or an `import('x').T` type. */
  typeOnly: boolean;
  /** Bare specifier: its npm package name (`@ferry/serve`, `fastify`); undefined if relative. */
  packageName?: string;
  /** A `node:` or builtin module. */
  builtin: boolean;
  /** Relative specifier: the file it resolves to, relative to the root (undefined if not found). */
  target?: string;
  /** Relative specifier: the package folder (or `bench`, or `root`) it points into. */
  targetPkg?: string;
  /** Relative specifier: `src`, `test`, `bench` or `other` inside targetPkg. */
  targetArea?: string;
  /**
   * The exported names it uses: `default`, each named binding (its exported name, not the local
   * alias), the first name of an `import('x').A.B` type, or `*` where it takes the whole module
   * (`import * as`, `export * from`, a `require` or a dynamic import not destructured at once).
   */
  names: string[];
}

const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage']);
const EXTENSIONS = ['.ts', '.tsx', '.mts'];

function walk(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.endsWith('.d.ts')) out.push(full);
  }
}

const posix = (path: string) => path.split(sep).join('/');

/** Package folder and area of a path relative to the root. */
export function locate(rel: string): { pkg: string; area: string } {
  const parts = rel.split('/');
  if (parts[0] === 'bench') return { pkg: 'bench', area: 'bench' };
  if (parts[0] === 'packages' && parts.length > 2) {
    const area = parts[2] === 'src' || parts[2] === 'test' ? parts[2] : 'other';
    return { pkg: parts[1] as string, area };
  }
  return { pkg: 'root', area: 'other' };
}

function isTestPath(rel: string, area: string): boolean {
  return area !== 'src' || /\.test\.tsx?$/.test(rel);
}

/** `@scope/name/deep` -> `@scope/name`; `name/deep` -> `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

const BUILTINS = new Set(builtinModules);

function resolveRelative(root: string, fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  const candidates = [
    base,
    ...EXTENSIONS.map((ext) => stem + ext),
    ...EXTENSIONS.map((ext) => join(base, `index${ext}`)),
  ];
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return posix(relative(root, candidate));
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

function importedNames(clause: ts.ImportClause | undefined): string[] {
  if (clause === undefined) return [];
  const names = clause.name === undefined ? [] : ['default'];
  const bindings = clause.namedBindings;
  if (bindings === undefined) return names;
  if (ts.isNamespaceImport(bindings)) return [...names, '*'];
  return [...names, ...bindings.elements.map((element) => (element.propertyName ?? element.name).text)];
}

/** `const { a, b: c } = await import('x')` and `(await import('x')).a` name what they use. */
function dynamicImportNames(call: ts.CallExpression): string[] {
  let node: ts.Node = call;
  if (ts.isAwaitExpression(node.parent)) node = node.parent;
  while (ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === node) return [parent.name.text];
  if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name)) {
    const names: string[] = [];
    for (const element of parent.name.elements) {
      const key = element.propertyName ?? element.name;
      if (element.dotDotDotToken !== undefined || !ts.isIdentifier(key)) return ['*'];
      names.push(key.text);
    }
    return names;
  }
  return ['*'];
}

function importsOf(root: string, file: SourceFile, text: string): ImportEdge[] {
  const full = join(root, file.path);
  const source = ts.createSourceFile(full, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean, names: string[]) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    const edge: ImportEdge = { from: file, line, specifier, typeOnly, builtin: false, names };
    if (specifier.startsWith('.')) {
      const abs = resolve(dirname(full), specifier);
      const where = locate(posix(relative(root, abs)));
      edge.targetPkg = where.pkg;
      edge.targetArea = where.area;
      edge.target = resolveRelative(root, full, specifier);
    } else if (specifier.startsWith('node:') || BUILTINS.has(packageNameOf(specifier))) {
      edge.builtin = true;
    } else {
      edge.packageName = packageNameOf(specifier);
    }
    edges.push(edge);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((element) => element.isTypeOnly)));
      add(node, node.moduleSpecifier.text, allTypes, importedNames(clause));
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const clause = node.exportClause;
      const allTypes =
        node.isTypeOnly ||
        (clause !== undefined &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((element) => element.isTypeOnly));
      const names =
        clause !== undefined && ts.isNamedExports(clause)
          ? clause.elements.map((element) => (element.propertyName ?? element.name).text)
          : ['*'];
      add(node, node.moduleSpecifier.text, allTypes, names);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const [first] = node.arguments;
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && first !== undefined && ts.isStringLiteralLike(first)) {
        add(node, first.text, false, isImport ? dynamicImportNames(node) : ['*']);
      }
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      let qualifier = node.qualifier;
      while (qualifier !== undefined && ts.isQualifiedName(qualifier)) qualifier = qualifier.left;
      add(node, node.argument.literal.text, true, qualifier === undefined ? ['*'] : [qualifier.text]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

export interface ImportGraph {
  files: SourceFile[];
  edges: ImportEdge[];
}

/** Scans packages/*\/src, packages/*\/test and bench/ under `root`. */
export function scanImportGraph(root: string): ImportGraph {
  const paths: string[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    walk(join(root, 'packages', pkg, 'src'), paths);
    walk(join(root, 'packages', pkg, 'test'), paths);
  }
  walk(join(root, 'bench'), paths);
  const files: SourceFile[] = [];
  const edges: ImportEdge[] = [];
  for (const full of paths.sort()) {
    const path = posix(relative(root, full));
    const { pkg, area } = locate(path);
    const text = readFileSync(full, 'utf8');
    const file: SourceFile = {
      path,
      pkg,
      area: area as SourceFile['area'],
      isTest: isTestPath(path, area),
      lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
    };
    files.push(file);
    edges.push(...importsOf(root, file, text));
  }
  return { files, edges };
}
