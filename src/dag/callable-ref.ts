import { isAbsolute, relative, resolve } from 'node:path';
import { invalid, type Where } from './field-reader.js';
import { FsProbe } from './fs-probe.js';

export interface ResolvedCallable {
  /** Absolute path of the module file (inside the bundle folder). */
  file: string;
  /** The function / export name inside it. */
  name: string;
}

const NAME_PATTERN = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits `path/in/bundle.py:function` and checks the module lies inside the bundle folder, also
 * after symlinks are followed: a DAG file must not run code from elsewhere on the worker.
 */
export function resolveCallableRef(
  ref: string,
  field: string,
  bundlePath: string,
  where: Where,
  fs: FsProbe = new FsProbe(),
): ResolvedCallable {
  // Tasks of one DAG mostly share a few refs: resolve each once per load (still recorded as a dependency).
  const memoKey = `${bundlePath}\0${ref}`;
  const known = fs.resolvedRefs.get(memoKey);
  if (known && fs.isFile(known.file)) return known;
  const colon = ref.lastIndexOf(':');
  const path = colon > 0 ? ref.slice(0, colon) : '';
  const name = colon > 0 ? ref.slice(colon + 1) : '';
  if (path === '' || !NAME_PATTERN.test(name)) {
    throw invalid(where, `${field} must look like "path/in/bundle.ext:functionName", found "${ref}"`);
  }
  if (isAbsolute(path) || /^[\\/]/.test(path) || /^[A-Za-z]:/.test(path)) {
    throw invalid(
      where,
      `${field} "${ref}" is an absolute path; give a path relative to the bundle folder ${bundlePath}`,
    );
  }
  if (path.split(/[\\/]/).includes('..')) {
    throw invalid(where, `${field} "${ref}" uses '..'; the module must lie inside the bundle folder ${bundlePath}`);
  }
  const file = resolve(bundlePath, path);
  let real: string;
  try {
    if (!fs.isFile(file)) throw new Error('not a file');
    real = fs.realpath(file);
  } catch {
    throw invalid(where, `${field} "${ref}": module file ${file} does not exist`);
  }
  let realBundle: string;
  try {
    realBundle = fs.realpath(bundlePath);
  } catch {
    realBundle = resolve(bundlePath);
  }
  const rel = relative(realBundle, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw invalid(where, `${field} "${ref}" resolves to ${real}, outside the bundle folder ${realBundle}`);
  }
  const resolved = { file, name };
  fs.resolvedRefs.set(memoKey, resolved);
  return resolved;
}
