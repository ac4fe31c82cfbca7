// Loaded with `node --import`: appends the URL of every module the process loads to the file named
// by $MINIFLOW_IMPORT_LOG, so tests can count what a command loads (never how long it takes). ES
// imports are seen by a resolve hook; CommonJS requires (commander, sqlite3 and ini are required,
// not imported) by a wrapper of the CommonJS resolver. Built-in modules are not logged by the latter.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.MINIFLOW_IMPORT_LOG, result.url + '\\n');
  return result;
}`;
register('data:text/javascript,' + encodeURIComponent(hook));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolveFilename.apply(this, args);
  if (isAbsolute(file)) appendFileSync(process.env.MINIFLOW_IMPORT_LOG, pathToFileURL(file).href + '\n');
  return file;
};
