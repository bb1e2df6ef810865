import { createRequire } from 'node:module';
import type ts from 'typescript';
import { bundleError } from '../errors.js';

let compiler: typeof ts | undefined;

/**
 * TypeScript (a 9 MB CommonJS file, ~0.5 s to load) is required on the first handler read, not
 * when @ferry/bundle is imported: `ferry --help`, `verify` or `push` never load it (issue #23).
 * Synchronous, as the callers are.
 */
function typescript(): typeof ts {
  compiler ??= createRequire(import.meta.url)('typescript') as typeof ts;
  return compiler;
}

/** The functions a handler may export; the server calls them around the model. */
export const HANDLER_EXPORTS = ['preprocess', 'postprocess'] as const;

/**
 * The names a module exports, read from its syntax tree (TypeScript's parser reads JS too):
 * nothing is executed. Covers `export function f`, `export const f`, `export { a as f }`,
 * and `export default` (as "default"); `export * from` is reported as "*".
 */
export function exportedNames(source: string, fileName: string): Set<string> {
  const ts = typescript();
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false);
  const names = new Set<string>();
  const exported = (node: ts.Node) =>
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of file.statements) {
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && exported(statement)) {
      const isDefault = (ts.getModifiers(statement) ?? []).some(
        (m) => m.kind === ts.SyntaxKind.DefaultKeyword,
      );
      if (isDefault) names.add('default');
      else if (statement.name) names.add(statement.name.text);
    } else if (ts.isVariableStatement(statement) && exported(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
    } else if (ts.isExportDeclaration(statement)) {
      if (!statement.exportClause) names.add('*');
      else if (ts.isNamedExports(statement.exportClause))
        for (const element of statement.exportClause.elements) names.add(element.name.text);
    } else if (ts.isExportAssignment(statement)) names.add('default');
  }
  return names;
}

/** Refuses a handler that exports neither preprocess nor postprocess (it would do nothing). */
export function checkHandlerExports(source: string, path: string): void {
  const names = exportedNames(source, path);
  if (names.has('*')) return; // re-exports of another module: cannot be decided without resolving it
  if (!HANDLER_EXPORTS.some((name) => names.has(name)))
    throw bundleError('FERRY_BUNDLE_HANDLER', {
      path,
      rule: `exports neither preprocess nor postprocess (it exports: ${[...names].sort().join(', ') || 'nothing'})`,
    });
}

/** Where the JavaScript of a TypeScript handler goes in the bundle: beside its source, as .mjs. */
export function compiledPath(module: string): string | undefined {
  return /\.m?ts$/.test(module) ? module.replace(/\.m?ts$/, '.mjs') : undefined;
}

/**
 * Transpiles a TypeScript handler to an ES module (types removed, nothing bundled), so the server
 * runs plain JavaScript and needs no TypeScript at run time. The output depends only on the
 * source and the TypeScript version, so packs stay reproducible.
 */
export function compileHandler(source: string, path: string): string {
  const ts = typescript();
  const result = ts.transpileModule(source, {
    fileName: path,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: false,
      removeComments: false,
      verbatimModuleSyntax: false,
    },
  });
  const errors = (result.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const first = errors[0]!;
    const where =
      first.file && first.start !== undefined
        ? first.file.getLineAndCharacterOfPosition(first.start)
        : undefined;
    throw bundleError('FERRY_BUNDLE_HANDLER', {
      path: where ? `${path}:${where.line + 1}:${where.character + 1}` : path,
      rule: `does not compile: ${ts.flattenDiagnosticMessageText(first.messageText, ' ')}`,
    });
  }
  return result.outputText;
}
