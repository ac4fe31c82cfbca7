// The CLI bundle: dist/src/cli/main.js (compiled by tsc) and everything it imports -> one CommonJS
// file, dist/cli/miniflow.cjs, which bin/cli-bundle.js runs. Why: Node 20 loads ~180 small ES
// modules one by one (resolve, read, compile, link each), which was most of a warm `dags test`;
// one CommonJS script is compiled lazily, function by function. Modules reached only through
// `import()` stay lazy inside the bundle (esbuild initialises them on first import), and the
// packages below stay outside it, required only by the code that uses them (`db migrate`, the
// API server, BullMQ, Redis, PostgreSQL, the bench), so `--help` still loads none of them.
// Type checking and tests are unchanged: they run on src/ (jest) and dist/src (the runners).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE } from '../bin/cli-bundle.js';

const CLI_BUNDLE = fileURLToPath(new URL('../bin/cli-bundle.js', import.meta.url));

const OUT_DIR = resolve('dist/cli');

/** Native, large, or only needed by some commands: left to `require` at run time. */
const EXTERNAL = [
  'sqlite3',
  'typeorm',
  'reflect-metadata',
  'pg',
  'ioredis',
  'bullmq',
  'fastify',
  '@fastify/*',
  'cli-progress',
];

/** Imports a user's module file for real (src/util/import-file.ts): required from dist/, not bundled. */
const IMPORT_FILE = /[\\/]util[\\/]import-file\.js$/;

/**
 * A bundled module's `import.meta.url` is its own file's URL, not the bundle's (a CommonJS bundle
 * has no import.meta): paths built from it (createRequire, the repository root, fdir's optional
 * picomatch) resolve as they do unbundled.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(b) {
    b.onResolve({ filter: IMPORT_FILE }, () => ({ path: '../src/util/import-file.js', external: true }));
    b.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      // A package required where it is used (`createRequire(import.meta.url)('commander')`, so an
      // unbundled start does not parse it as an ES import) is bundled and still required there.
      if (!args.path.includes('node_modules'))
        contents = contents.replaceAll('createRequire(import.meta.url)(', 'require(');
      if (!contents.includes('import.meta.url')) return { contents, loader: 'js' };
      const rel = JSON.stringify(relative(OUT_DIR, args.path));
      const url = `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${rel})).href`;
      return { contents: contents.replaceAll('import.meta.url', url), loader: 'js' };
    });
  },
};

rmSync(OUT_DIR, { recursive: true, force: true });
const { metafile, warnings } = await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/cli/miniflow.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // The bundle runs as a compiled script (bin/cli-bundle.js), where `import()` has no loader: every
  // import() becomes a require (bundled modules are initialised on first use, as before).
  supported: { 'dynamic-import': false },
  // Smaller text to scan at start-up; names are kept, so a bug's stack trace still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  plugins: [keepModuleUrls],
  metafile: true,
  logLevel: 'warning',
});

// A warning here is a bundle that differs from the modules it came from (import.meta, say).
if (warnings.length > 0) throw new Error(`the CLI bundle has ${warnings.length} warning(s), printed above`);
const dynamic = Object.values(metafile.outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind === 'dynamic-import');
if (dynamic.length > 0)
  throw new Error(`the CLI bundle still imports ${dynamic.map((i) => i.path).join(', ')} with import()`);
await trainCodeCache();
// Checked in a fresh process, as the CLI will read it; a cache V8 rejects is only dead weight.
if (spawnSync(process.execPath, [CLI_BUNDLE, '--check', CACHE]).status !== 0) {
  rmSync(CACHE);
  console.warn('build-cli: V8 rejects the code cache here; the CLI starts without it');
}

/**
 * The code cache is made by a real command: a warm `dags test` of a two-task DAG of cached Node
 * tasks in a temporary AIRFLOW_HOME (run cold once first, so the trained run is all hits). It then
 * holds what a run compiles (start-up, commander, the DAG loader, scheduler, cache check, hit write,
 * output) and not the rest of the bundle. The home and its DAG are the bench's (compiled by tsc
 * above), whose environment leaves out the developer's AIRFLOW* and MINIFLOW_ settings.
 */
async function trainCodeCache() {
  rmSync(CACHE, { force: true });
  const home = mkdtempSync(join(tmpdir(), 'miniflow-build-'));
  try {
    const { homeEnv } = await import('../dist/src/bench/process-dags.js');
    const { writeBenchCallables, writeSyntheticDag } = await import('../dist/src/bench/synthetic-dag.js');
    const dags = join(home, 'dags');
    writeBenchCallables(dags);
    writeSyntheticDag(dags, 'build_train', 'wide', 'node', 2);
    const env = homeEnv(home, 2, true);
    const command = ['dags', 'test', 'build_train', '2026-01-01'];
    const cli = fileURLToPath(new URL('../bin/miniflow.js', import.meta.url));
    for (const args of [
      [cli, ...command],
      [CLI_BUNDLE, '--train', CACHE, ...command],
    ]) {
      const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`build-cli: training the code cache failed (node ${args.join(' ')}):\n${r.stderr}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
