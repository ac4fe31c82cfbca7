/**
 * A real ES `import()` of a user's module file (a custom cache backend). It lives in its own
 * module because the CLI bundle (scripts/build-cli.js) runs as a compiled script, where `import()`
 * has no module loader: the bundle requires this file from dist/ and the import happens here.
 */
export function importFile(url: string): Promise<Record<string, unknown>> {
  return import(url) as Promise<Record<string, unknown>>;
}
