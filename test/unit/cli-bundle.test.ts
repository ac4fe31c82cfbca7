import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// bin/cli-bundle.js on the built bundle (`npm test` builds first, as for the e2e tests). Each check
// runs in a fresh process: one that compiled the bundle already would answer from memory.
const CLI_BUNDLE = join(process.cwd(), 'bin', 'cli-bundle.js');
const CACHE = join(process.cwd(), 'dist', 'cli', 'miniflow.cjs.cache');

function used(cache: Buffer): boolean {
  const file = join(mkdtempSync(join(tmpdir(), 'miniflow-cache-')), 'cache');
  writeFileSync(file, cache);
  return spawnSync(process.execPath, [CLI_BUNDLE, '--check', file]).status === 0;
}

test('the build leaves a code cache that V8 accepts for the bundle it was made from', () => {
  const cache = readFileSync(CACHE);
  expect(cache.toString('latin1', 0, 41)).toMatch(/^[0-9a-f]{40}\n$/);
  expect(used(cache)).toBe(true);
});

test('a cache of another build, or a damaged one, is not used', () => {
  const cache = readFileSync(CACHE);
  expect(used(Buffer.concat([Buffer.from('0'.repeat(40) + '\n', 'latin1'), cache.subarray(41)]))).toBe(false);
  expect(used(Buffer.concat([cache.subarray(0, 41), Buffer.alloc(cache.length - 41, 7)]))).toBe(false);
  expect(used(cache.subarray(0, 41))).toBe(false);
});
