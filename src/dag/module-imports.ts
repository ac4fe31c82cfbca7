import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

/**
 * The local imports of one module file, read statically: JavaScript `import`/`export ... from`/
 * `require('./x')` of relative paths, Python `import x`, `from x import y`, `from . import y` that
 * resolve to files inside the bundle. Nothing is executed. What cannot be followed (a dynamic
 * `import(expr)`, `importlib`, a path leaving the bundle) is named so `cache show` can list it.
 */
export interface ModuleImports {
  /** Absolute paths of local module files this one imports. */
  files: string[];
  /** Imports that were seen but not followed, each with why. */
  notFollowed: string[];
  /** Every path looked up (found or not): a file created there later can change the result. */
  probed: string[];
}

const JS_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '/index.js', '/index.mjs', '/index.ts'];
const JS_STATIC = /(?:^|[\s;}])(?:import|export)\s+(?:[\w*${},\s]+?\s+from\s+)?(['"])([^'"\n]+)\1/g;
const JS_REQUIRE = /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;
const JS_DYNAMIC = /\b(import|require)\s*\(\s*([^)'"\s][^)]*)\)/g;

const statIsFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
const inside = (bundle: string, p: string): boolean => p === bundle || p.startsWith(bundle + sep);

/** `isFile` answers the file-system lookups (a load's memoizing probe); every path asked is listed in `probed`. */
export function moduleImports(
  file: string,
  text: string,
  bundle: string,
  isFile: (path: string) => boolean = statIsFile,
): ModuleImports {
  const probed: string[] = [];
  const probe = (p: string): boolean => {
    probed.push(p);
    return isFile(p);
  };
  const found = ['.py', '.pyw'].includes(extname(file))
    ? pythonImports(file, text, bundle, probe)
    : jsImports(file, text, bundle, probe);
  return { ...found, probed };
}

type Found = Omit<ModuleImports, 'probed'>;

function jsImports(file: string, text: string, bundle: string, isFile: (p: string) => boolean): Found {
  const out: Found = { files: [], notFollowed: [] };
  const specs = [...text.matchAll(JS_STATIC), ...text.matchAll(JS_REQUIRE)].map((m) => m[2]);
  for (const spec of new Set(specs)) {
    if (!spec.startsWith('./') && !spec.startsWith('../')) continue; // a package or node: builtin
    const base = resolve(dirname(file), spec);
    if (!inside(bundle, base)) {
      out.notFollowed.push(`'${spec}' (outside the bundle)`);
      continue;
    }
    const found = JS_EXTENSIONS.map((ext) => base + ext).find(isFile);
    if (found) out.files.push(found);
    else out.notFollowed.push(`'${spec}' (no such file)`);
  }
  for (const m of text.matchAll(JS_DYNAMIC)) out.notFollowed.push(`${m[1]}(${m[2].trim().slice(0, 60)}) (dynamic)`);
  return out;
}

const PY_IMPORT = /^[ \t]*import[ \t]+([\w., \t]+)/gm;
const PY_FROM = /^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w, \t*]+))/gm;
const PY_DYNAMIC = /\b(importlib\.import_module|__import__)\s*\(/g;

/** A dotted module under `root`: `a/b.py` or the package `a/b/__init__.py`. */
function pyModule(root: string, dotted: string, isFile: (p: string) => boolean): string | undefined {
  const base = join(root, ...dotted.split('.').filter(Boolean));
  return [`${base}.py`, join(base, '__init__.py')].find(isFile);
}

function pythonImports(file: string, text: string, bundle: string, isFile: (p: string) => boolean): Found {
  const out: Found = { files: [], notFollowed: [] };
  const add = (p: string | undefined) => p !== undefined && inside(bundle, p) && out.files.push(p);
  // Airflow puts the DAGs folder on sys.path, and a script's own folder is on it too.
  const roots = [...new Set([dirname(file), bundle])];
  const absolute = (dotted: string) => roots.map((r) => pyModule(r, dotted, isFile)).find((p) => p !== undefined);
  for (const m of text.matchAll(PY_IMPORT)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().split(/\s+/)[0];
      if (name) add(absolute(name)); // not found: an installed package or the standard library
    }
  }
  for (const m of text.matchAll(PY_FROM)) {
    const [, dots, mod, inParens, plain] = m;
    const members = (inParens ?? plain ?? '').split(/[,\s]+/).filter((n) => n && n !== '*' && n !== 'as');
    if (dots.length === 0) {
      const found = absolute(mod);
      add(found);
      for (const n of members) add(absolute(`${mod}.${n}`));
      continue;
    }
    let base = dirname(file);
    for (let i = 1; i < dots.length; i++) base = dirname(base);
    if (!inside(bundle, base)) {
      out.notFollowed.push(`from ${dots}${mod} import ... (outside the bundle)`);
      continue;
    }
    const found = mod ? pyModule(base, mod, isFile) : undefined;
    add(found);
    const subs = members.map((n) => pyModule(base, mod ? `${mod}.${n}` : n, isFile)).filter((p) => p !== undefined);
    subs.forEach(add);
    if (!found && subs.length === 0 && mod) out.notFollowed.push(`from ${dots}${mod} import ... (no such file)`);
  }
  for (const m of text.matchAll(PY_DYNAMIC)) out.notFollowed.push(`${m[1]}(...) (dynamic)`);
  return out;
}

/** A path for display: relative to the bundle. */
export function bundleRelative(bundle: string, file: string): string {
  return relative(bundle, file).split(sep).join('/');
}
