// Follows the imports of built JavaScript files, to check what an entry point
// can load without running it. Imports are read with the TypeScript parser,
// so an import in a comment or a string does not count and nothing is missed
// for being written on several lines:
//   import ... from 'x' / import 'x' / export ... from 'x'   static
//   import('x')                                               dynamic
//   require('x')                                              static (a CommonJS escape hatch)
// Relative specifiers are resolved against the importing file and followed;
// anything else (a package, a node: builtin) is a leaf. An import() whose
// specifier is computed cannot be followed, so it is an error rather than a
// silent gap, and so is a relative import of a file that does not exist.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface ImportSite {
  /** The specifier as written. */
  specifier: string;
  dynamic: boolean;
}

/** The imports written in one JavaScript source. */
export function importsOf(source: string, fileName = 'file.js'): ImportSite[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: ImportSite[] = [];
  const literal = (node: ts.Node | undefined): string | undefined =>
    node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      found.push({ specifier: literal(node.moduleSpecifier)!, dynamic: false });
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) {
        const specifier = literal(node.arguments[0]);
        if (specifier === undefined) {
          const { line } = file.getLineAndCharacterOfPosition(node.getStart());
          throw new Error(`${fileName}:${line + 1}: ${isImport ? 'import()' : 'require()'} of a computed specifier cannot be followed`);
        }
        found.push({ specifier, dynamic: isImport });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const isRelative = (specifier: string) =>
  specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('file:') || isAbsolute(specifier);

export interface ImportGraph {
  entry: string;
  /** Every file reached, entry first (absolute paths). */
  files: string[];
  /** Every import: the file it is written in, what it names, and the file it resolves to when relative. */
  edges: Array<ImportSite & { from: string; to?: string }>;
  /** The importer through which each file was first reached. */
  parent: Map<string, string>;
}

/** Walks the imports from `entry`; with `dynamic: false`, import() is not followed (nor listed). */
export function importGraph(entry: string, options: { dynamic?: boolean } = {}): ImportGraph {
  const followDynamic = options.dynamic ?? true;
  const start = resolve(entry);
  const graph: ImportGraph = { entry: start, files: [start], edges: [], parent: new Map() };
  const queue = [start];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const site of importsOf(readFileSync(from, 'utf8'), from)) {
      if (site.dynamic && !followDynamic) continue;
      if (!isRelative(site.specifier)) {
        graph.edges.push({ ...site, from });
        continue;
      }
      const to = site.specifier.startsWith('file:') ? fileURLToPath(site.specifier) : resolve(dirname(from), site.specifier);
      if (!existsSync(to)) throw new Error(`${from}: imports ${site.specifier}, which does not exist`);
      graph.edges.push({ ...site, from, to });
      if (!seen.has(to)) {
        seen.add(to);
        graph.parent.set(to, from);
        graph.files.push(to);
        queue.push(to);
      }
    }
  }
  return graph;
}

export interface Forbidden {
  /** Bare specifiers that must not be imported (a package, a builtin). */
  specifiers: RegExp[];
  /** Folders none of whose files may be reached. */
  folders?: string[];
}

/** Loaded only for local use and tests: the embedded database, containers, the file system. */
export const developmentOnly: RegExp[] = [
  /^@electric-sql\/pglite(\/|$)/,
  /^drizzle-orm\/pglite(\/|$)/,
  /^@testcontainers\//,
  /^testcontainers(\/|$)/,
  /^(node:)?fs(\/promises)?$/,
];

/**
 * Every forbidden import the graph holds, each as the chain of files that
 * leads to it ("dist/index.js -> dist/client.js -> node:fs"), paths relative
 * to `base`. Empty when there is none.
 */
export function forbiddenImports(graph: ImportGraph, forbidden: Forbidden, base = dirname(graph.entry)): string[] {
  const show = (file: string) => relative(base, file).split(sep).join('/');
  const chain = (file: string): string[] => {
    const path = [file];
    for (let at = graph.parent.get(file); at; at = graph.parent.get(at)) path.unshift(at);
    return path.map(show);
  };
  const folders = (forbidden.folders ?? []).map((f) => resolve(f) + sep);
  const found: string[] = [];
  for (const edge of graph.edges) {
    if (edge.to === undefined && forbidden.specifiers.some((r) => r.test(edge.specifier))) {
      found.push([...chain(edge.from), edge.specifier].join(' -> '));
    }
  }
  for (const file of graph.files) {
    if (folders.some((f) => file.startsWith(f))) found.push(chain(file).join(' -> '));
  }
  return found;
}
