// Runs the CLI bundle (dist/cli/miniflow.cjs, made by scripts/build-cli.js) as one compiled script,
// with V8's code cache for it when the build left one that matches: the bundle is then neither
// parsed nor compiled again at start-up, the largest cost of a short command after Node's own.
// Plain JavaScript, not compiled: it must run before anything else of miniflow's is loaded.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export const BUNDLE = fileURLToPath(new URL('../dist/cli/miniflow.cjs', import.meta.url));
export const CACHE = `${BUNDLE}.cache`;
/** The cache file starts with the hash of the source it was made from, then a newline. */
const HASH_BYTES = 40;

/**
 * The bundle compiled as a CommonJS module function (its text must not change between build and
 * run), from `cachedData` when that is a code cache of this very text that V8 accepts.
 */
export function compileBundle(cachedData) {
  const bytes = readFileSync(BUNDLE);
  // The file's bytes are hashed, not the wrapped text: no second UTF-8 encoding of 0.8 MB.
  const hash = createHash('sha1').update(bytes).digest('hex');
  const source = `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`;
  // V8 checks a cache only against the source's length: a cache of another build must not be used.
  const matching = cachedData && cachedData.toString('latin1', 0, HASH_BYTES) === hash;
  const script = new Script(source, {
    filename: BUNDLE,
    cachedData: matching ? cachedData.subarray(HASH_BYTES + 1) : undefined,
  });
  return { script, hash, cacheUsed: Boolean(matching) && script.cachedDataRejected === false };
}

export function runCli() {
  let cachedData;
  try {
    cachedData = readFileSync(CACHE);
  } catch {
    // No cache (a build without one, or removed): compiled from source, only slower.
  }
  run(compileBundle(cachedData).script);
}

function run(script) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
}

/**
 * Runs the CLI once with `args`, compiled from source, and when the process exits writes the code
 * cache of what that run compiled to `out`. V8 compiles a function when it is first called, so the
 * cache holds the functions a real command needs and no others: a third of the size of a cache of
 * every function, which is read and deserialised on every start.
 */
export function trainCodeCache(out, args) {
  const { script, hash } = compileBundle(undefined);
  process.argv = [process.argv[0], fileURLToPath(new URL('./miniflow.js', import.meta.url)), ...args];
  process.on('exit', () => {
    writeFileSync(out, Buffer.concat([Buffer.from(`${hash}\n`, 'latin1'), script.createCachedData()]));
  });
  run(script);
}

/** Run as `node bin/cli-bundle.js --check CACHE_FILE`: exit 0 when V8 would use that cache. */
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--check') {
  process.exitCode = compileBundle(readFileSync(process.argv[3])).cacheUsed ? 0 : 1;
}

/** Run as `node bin/cli-bundle.js --train CACHE_FILE ARGS...` (scripts/build-cli.js does). */
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--train') {
  trainCodeCache(process.argv[3], process.argv.slice(4));
}
