// Loaded with `node --import`: appends the URL of every module the process imports to the file
// named by $MINIFLOW_IMPORT_LOG, so tests can count what a command loads (never how long it takes).
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.MINIFLOW_IMPORT_LOG, result.url + '\\n');
  return result;
}`;
register('data:text/javascript,' + encodeURIComponent(hook));
