import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The repository / package root (the folder holding package.json). Code runs both from `dist/`
 * (the CLI) and from `src/` (under jest), so runner paths are resolved from here, never relative
 * to the calling module.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('miniflow: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  root = dir;
  return dir;
}

/** Compiled child runners live in dist/ (built by `npm run build`); the Python runner ships as source. */
export const runnerPaths = {
  node: () => join(packageRoot(), 'dist', 'src', 'runner', 'node-runner.js'),
  sensor: () => join(packageRoot(), 'dist', 'src', 'runner', 'file-sensor-runner.js'),
  python: () => join(packageRoot(), 'src', 'runner', 'python_runner.py'),
  /** The process that forks task children for the scheduler (src/executor/spawn-helper.ts). */
  spawnHelper: () => join(packageRoot(), 'dist', 'src', 'executor', 'spawn-helper.js'),
  /** The worker thread that renders templates off the scheduler's event loop. */
  renderWorker: () => join(packageRoot(), 'dist', 'src', 'templating', 'render-worker.js'),
};

/** The `version` of miniflow's package.json (`miniflow version`, `info`). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
