// Issue 14 point 7, the CI-sized crash soak: runs of a generated DAG while two schedulers on SQLite
// are SIGKILLed one at a time every few seconds and replaced; then drained and checked (every run
// succeeded, every task ran once plus at most the tries a killed scheduler had running, nothing left queued or
// running, every cache entry whole). `npm run soak -- --minutes 10` is the long run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';

test('a 45-second crash soak on SQLite passes', () => {
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'dist', 'src', 'soak', 'soak.js'), '--minutes', '0.75', '--kill-every', '3'],
    {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  expect(out).toMatch(
    /soak \(sqlite, 2 schedulers\): \d+ runs, \d+ task instances, \d+ executions, [1-9]\d* kills, \d+ extra executions/,
  );
  expect(out).not.toContain('VIOLATION');
  expect(out).toContain('soak passed');
  expect(r.status).toBe(0);
}, 620_000);
