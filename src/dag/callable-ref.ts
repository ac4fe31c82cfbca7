import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { invalid, type Where } from './field-reader.js';

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
export function resolveCallableRef(ref: string, field: string, bundlePath: string, where: Where): ResolvedCallable {
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
    if (!statSync(file).isFile()) throw new Error('not a file');
    real = realpathSync(file);
  } catch {
    throw invalid(where, `${field} "${ref}": module file ${file} does not exist`);
  }
  let realBundle: string;
  try {
    realBundle = realpathSync(bundlePath);
  } catch {
    realBundle = resolve(bundlePath);
  }
  const rel = relative(realBundle, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw invalid(where, `${field} "${ref}" resolves to ${real}, outside the bundle folder ${realBundle}`);
  }
  return { file, name };
}
