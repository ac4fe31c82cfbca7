// Issue 13.3 through the real CLI: `cache.input_files`. Each matched file is a key component
// `file.<path>` (its sha256 by default; size + mtime, or size alone, when asked); a glob matching
// nothing is a component too. A miss and `cache explain` name the file; content hashes are memoized
// in file_hash_memo.
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';

interface TaskJson {
  task_id: string;
  state: string;
  cache: { decision: string; reason: string; key: string | null };
}

describe('cache.input_files', () => {
  const h = new TempHome();
  const config = h.write('conf/config.yaml', 'threshold: 3\n');
  h.write('dags/data/2026-03-04/a.csv', '1,2\n');
  h.write('dags/data/2026-03-04/b.csv', '3,4\n');
  const task = (id: string, mode: string) => ({
    task_id: id,
    task_type: 'BashOperator',
    bash_command: 'echo counted',
    cache: { input_files: ['data/{{ ds }}/*.csv', config], file_hash: mode },
    downstream_task_ids: [],
  });
  h.writeDag({
    dag_id: 'reads_files',
    default_args: { retries: 0 },
    tasks: [task('by_content', 'content'), task('by_mtime', 'mtime'), task('by_size', 'size')],
  });
  const run = (runId: string, date = '2026-03-04') => {
    const r = h.json<{ state: string; tasks: TaskJson[] }>(['dags', 'test', 'reads_files', date, '--run-id', runId]);
    expect(r.data.state).toBe('success');
    return Object.fromEntries(r.data.tasks.map((t) => [t.task_id, t.cache]));
  };

  test('every matched file is a key component; unchanged files hit', () => {
    const first = run('r1');
    expect(first.by_content.decision).toBe('miss');
    const show = h.json<{ components: { name: string; value: string }[] }>(['cache', 'show', first.by_content.key!]);
    const files = show.data.components.filter((c) => c.name.startsWith('file.'));
    expect(files.map((c) => c.name)).toEqual([
      `file.${config}`,
      'file.data/2026-03-04/a.csv',
      'file.data/2026-03-04/b.csv',
    ]);
    expect(files[1].value).toMatch(/^sha256:[0-9a-f]{64}$/);
    const second = run('r2');
    expect(Object.values(second).map((c) => c.decision)).toEqual(['hit', 'hit', 'hit']);
  });

  test('an edited file misses and is named, in the run and in cache explain', () => {
    writeFileSync(join(h.dags, 'data/2026-03-04/a.csv'), '9,9\n');
    const r = run('r3');
    expect(r.by_content.decision).toBe('miss');
    expect(r.by_content.reason).toBe('input file data/2026-03-04/a.csv changed; stored');
    // Same size, new mtime: mtime mode misses too; size mode (lenient) does not.
    expect(r.by_mtime.reason).toBe('input file data/2026-03-04/a.csv changed; stored');
    expect(r.by_size.decision).toBe('hit');
    // Edited again, not run: explain computes the key from the files as they are now.
    writeFileSync(join(h.dags, 'data/2026-03-04/a.csv'), '7,7\n');
    const explain = h.json<{ would_hit: boolean; reasons: string[] }>([
      'cache',
      'explain',
      'reads_files',
      'by_content',
      '--run-id',
      'r3',
    ]);
    expect(explain.data.would_hit).toBe(false);
    expect(explain.data.reasons).toContain('input file data/2026-03-04/a.csv changed');
    writeFileSync(join(h.dags, 'data/2026-03-04/a.csv'), '1,2\n');
  });

  test('mtime mode misses on a touch; content mode does not', () => {
    run('r4');
    const later = new Date('2030-01-01T00:00:00Z');
    utimesSync(config, later, later);
    const r = run('r5');
    expect(r.by_content.decision).toBe('hit');
    expect(r.by_mtime.reason).toBe(`input file ${config} changed; stored`);
    expect(r.by_size.decision).toBe('hit');
  });

  test('a glob that matches nothing is a component: a file appearing later misses', () => {
    const empty = run('e1', '2026-03-05');
    expect(empty.by_content.decision).toBe('miss');
    expect(run('e2', '2026-03-05').by_content.decision).toBe('hit');
    h.write('dags/data/2026-03-05/new.csv', '5,6\n');
    const r = run('e3', '2026-03-05');
    expect(r.by_content.reason).toMatch(/input file pattern .*data\/2026-03-05\/\*\.csv now matches files/);
    expect(r.by_content.reason).toMatch(/input file data\/2026-03-05\/new\.csv appeared/);
  });
});
