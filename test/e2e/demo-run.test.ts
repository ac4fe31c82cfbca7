import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';

describe('npm run demo (the compiled demo script)', () => {
  test('runs to completion outside a terminal: no colour codes, the warm step all hits, cache stats at the end', () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('AIRFLOW') && !k.startsWith('MINIFLOW_') && k !== 'NO_COLOR') env[k] = v;
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'src', 'demo', 'demo.js')], {
      cwd: REPO,
      env,
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).not.toContain('\u001b[');
    const section = (title: string, next: string) => out.slice(out.indexOf(title), out.indexOf(next));
    const rows = (text: string, word: string) => text.split('\n').filter((l) => l.includes(`│ ${word}`)).length;
    const cold = section('1. Cold run', '2. Warm run');
    const warm = section('2. Warm run', '3. Changed conf');
    const conf = section('3. Changed conf', '4. Edited input');
    const edited = section('4. Edited input', '5. Edit undone');
    const undone = section('5. Edit undone', '6. Deleted output');
    const deleted = section('6. Deleted output', 'Cache statistics');
    expect(rows(cold, 'RAN (miss)')).toBe(5);
    expect(rows(warm, 'HIT')).toBe(5);
    expect(warm).toMatch(/5 hit, 0 ran/);
    // The conf key is in train's key: fetch and features hit, the rest ran, and the demo says why.
    expect(conf).toMatch(/2 hit, 3 ran/);
    expect(conf).toMatch(/train .*key changed: .*dag_run\.conf\.model/);
    expect(edited).toMatch(/1 hit, 4 ran/);
    expect(edited).toMatch(/features .*key changed: input\.op_kwargs\.degree/);
    // report's file was rewritten by steps 3 and 4: its step-1 entry no longer serves.
    expect(undone).toMatch(/4 hit, 1 ran/);
    expect(undone).toMatch(/report .*output reports\/2026-01-01\.md changed/);
    // A declared output deleted: report misses, says why, runs and puts the file back.
    expect(deleted).toMatch(/4 hit, 1 ran/);
    expect(deleted).toMatch(/report .*output reports\/2026-01-01\.md missing/);
    expect(deleted).toContain('reports/2026-01-01.md is back');
    expect(out).toMatch(/Cache statistics/);
  }, 120_000);
});
