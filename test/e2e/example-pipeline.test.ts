import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';

describe('the example DAG end to end', () => {
  const h = new TempHome();
  cpSync(join(REPO, 'dags'), h.dags, { recursive: true });

  test('dags test runs Bash, Python and Node tasks joined by XCom and a templated date', () => {
    const r = h.json(['dags', 'test', 'example_pipeline', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.data.state).toBe('success');
    expect(r.data.tasks.map((t: any) => [t.task_id, t.state])).toEqual([
      ['extract', 'success'],
      ['score', 'success'],
      ['summarize', 'success'],
      ['done', 'success'],
    ]);
    const runId = r.data.run_id;
    const extract = h.run(['xcom', 'get', 'example_pipeline', runId, 'extract']);
    expect(JSON.parse(extract.stdout)).toBe('3,1,4,1,5');
    const score = h.run(['xcom', 'get', 'example_pipeline', runId, 'score']);
    expect(JSON.parse(score.stdout)).toEqual({ ds: '2026-01-01', max: 5, min: 1 });
    const summary = h.run(['xcom', 'get', 'example_pipeline', runId, 'summarize']);
    expect(JSON.parse(summary.stdout)).toEqual({
      count: 5,
      total: 14,
      mean: 2.8,
      scored: { ds: '2026-01-01', max: 5, min: 1 },
    });
  });
});
