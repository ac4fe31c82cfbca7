// Issue 3, section 8 through the real CLI: team_name comes from the DAG bundle, and with multi_team
// on, one team's entries are never served to another.
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { bashTask, cacheHome, dagsTest, decisions, runs } from '../fixtures/e2e-cache/support.js';

describe('multi-team isolation', () => {
  const h = cacheHome({
    AIRFLOW__CORE__MULTI_TEAM: 'True',
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: JSON.stringify([
      { name: 'a', kwargs: { path: 'bundles/a' }, team_name: 'team_a' },
      { name: 'b', kwargs: { path: 'bundles/b' }, team_name: 'team_b' },
    ]),
  });
  mkdirSync(join(h.home, 'bundles', 'b'), { recursive: true });
  const inA = join(h.home, 'bundles', 'a', 'shared.json');
  const inB = join(h.home, 'bundles', 'b', 'shared.json');
  h.write('bundles/a/shared.json', {
    __version: 1,
    dag: { dag_id: 'shared', default_args: { cache: true }, tasks: [bashTask(h, 'work', 'w')] },
  });

  const team = () => (h.json(['dags', 'list']).data as any[]).find((d) => d.dag_id === 'shared')?.team_name;

  test("the same DAG file misses in another team's bundle and hits again back in its own", () => {
    expect(team()).toBe('team_a');
    const a1 = dagsTest(h, 'shared', 'a1');
    expect(a1.state).toBe('success');
    expect(decisions(a1)).toEqual({ work: 'miss' });
    expect(dagsTest(h, 'shared', 'a2').tasks.work.cache.source_run_id).toBe('a1');

    renameSync(inA, inB);
    expect(team()).toBe('team_b');
    const b1 = dagsTest(h, 'shared', 'b1');
    expect(decisions(b1)).toEqual({ work: 'miss' });
    expect(b1.tasks.work.cache.key).not.toBe(a1.tasks.work.cache.key);
    expect(runs(h, 'work')).toBe(2);

    renameSync(inB, inA);
    const a3 = dagsTest(h, 'shared', 'a3');
    expect(decisions(a3)).toEqual({ work: 'hit' });
    expect(a3.tasks.work.cache.source_run_id).toBe('a1');
    expect(runs(h, 'work')).toBe(2);
  });

  test('a DAG file that sets team_name is an import error', () => {
    h.write('bundles/a/sneaky.json', {
      __version: 1,
      dag: { dag_id: 'sneaky', team_name: 'team_b', tasks: [bashTask(h, 'x', 'x', { cache: true })] },
    });
    const errors = h.json(['dags', 'list-import-errors']).data as any[];
    const e = errors.find((x) => x.filename.endsWith('sneaky.json'));
    expect(e).toBeDefined();
    expect(e.bundle_name).toBe('a');
    expect(e.error).toMatch(/team_name cannot be set in a DAG file; it comes from the DAG bundle configuration/);
    expect((h.json(['dags', 'list']).data as any[]).map((d) => d.dag_id)).not.toContain('sneaky');
  });
});
