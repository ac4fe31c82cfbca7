import { TempHome } from '../helpers/cli.js';
import { bash, empty, statesOf } from '../fixtures/e2e-core/dags.js';

/**
 * Every trigger rule, each in a case where it runs and one where it does not, over three sources:
 * `ok` succeeds, `bad` fails, `skip_src` is skipped (all_failed over a success). Bash tasks prove
 * a "run" really ran a child.
 */
const sources = [
  bash('ok', 'echo ok', [
    'skip_src',
    'all_success_run',
    'all_success_uf',
    'all_success_skip',
    'all_failed_skip',
    'all_done_run',
    'one_success_run',
    'one_failed_run',
    'one_failed_skip',
    'none_failed_run',
    'none_failed_uf',
    'none_skipped_run',
    'none_skipped_skip',
  ]),
  bash(
    'bad',
    'exit 1',
    [
      'all_success_uf',
      'all_failed_run',
      'all_failed_skip',
      'all_done_run',
      'one_success_run',
      'one_success_uf',
      'one_failed_run',
      'none_failed_uf',
      'none_skipped_run',
      'always_run',
    ],
    { retries: 0 },
  ),
  empty('skip_src', ['all_success_skip', 'all_done_run', 'none_failed_run', 'none_skipped_skip', 'one_success_skip'], {
    trigger_rule: 'all_failed',
  }),
];
const rule = (taskId: string, trigger_rule: string, downstream: string[] = []) =>
  bash(taskId, `echo ${taskId}`, downstream, { trigger_rule });

const expected: Record<string, string> = {
  ok: 'success',
  bad: 'failed',
  skip_src: 'skipped',
  all_success_run: 'success', // [ok]
  all_success_uf: 'upstream_failed', // [ok, bad]
  all_success_skip: 'skipped', // [ok, skip_src]
  all_failed_run: 'success', // [bad]
  all_failed_skip: 'skipped', // [ok, bad]
  all_done_run: 'success', // [ok, bad, skip_src]
  one_success_run: 'success', // [ok, bad]
  one_success_uf: 'upstream_failed', // [bad]
  one_success_skip: 'skipped', // [skip_src]
  one_failed_run: 'success', // [ok, bad]
  one_failed_skip: 'skipped', // [ok]
  none_failed_run: 'success', // [ok, skip_src]
  none_failed_uf: 'upstream_failed', // [ok, bad]
  none_skipped_run: 'success', // [ok, bad]
  none_skipped_skip: 'skipped', // [ok, skip_src]
  always_run: 'success', // [bad]
  // Propagation: all_success below upstream_failed / skipped, and all_done below upstream_failed.
  after_uf: 'upstream_failed',
  after_skip: 'skipped',
  after_uf_all_done: 'success',
};

describe('trigger rules end to end', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'rules',
    tasks: [
      ...sources,
      rule('all_success_run', 'all_success'),
      rule('all_success_uf', 'all_success', ['after_uf']),
      rule('all_success_skip', 'all_success', ['after_skip']),
      rule('all_failed_run', 'all_failed'),
      rule('all_failed_skip', 'all_failed'),
      rule('all_done_run', 'all_done'),
      rule('one_success_run', 'one_success'),
      rule('one_success_uf', 'one_success'),
      rule('one_success_skip', 'one_success'),
      rule('one_failed_run', 'one_failed'),
      rule('one_failed_skip', 'one_failed'),
      rule('none_failed_run', 'none_failed'),
      rule('none_failed_uf', 'none_failed'),
      rule('none_skipped_run', 'none_skipped'),
      rule('none_skipped_skip', 'none_skipped'),
      rule('always_run', 'always'),
      rule('after_uf', 'all_success', ['after_uf_all_done']),
      rule('after_skip', 'all_success'),
      rule('after_uf_all_done', 'all_done'),
    ],
  });

  test('each downstream task ends in the state its rule gives', () => {
    const r = h.json(['dags', 'test', 'rules', '2026-01-01']);
    expect(statesOf(r.data.tasks)).toEqual(expected);
    // A leaf failed (bad is upstream of always_run but the failed/upstream_failed leaves decide): the run fails.
    expect(r.data.state).toBe('failed');
    expect(r.code).toBe(1);
    // Tasks that ran went through a child and pushed its last stdout line; settled ones never started.
    expect(JSON.parse(h.run(['xcom', 'get', 'rules', r.data.run_id, 'always_run']).stdout)).toBe('always_run');
    const settled = r.data.tasks.filter((t: any) => t.state === 'skipped' || t.state === 'upstream_failed');
    expect(settled.every((t: any) => t.try_number === 0)).toBe(true);
    const noXcom = h.run(['xcom', 'get', 'rules', r.data.run_id, 'all_failed_skip']);
    expect(noXcom.code).toBe(1);
    expect(noXcom.stderr).toMatch(/^error: .*has no XCom 'return_value'/);
  });

  test('a run whose leaves all succeed or skip is a success even with a failed task upstream', () => {
    h.writeDag({
      dag_id: 'recovers',
      tasks: [bash('bad', 'exit 1', ['cleanup'], { retries: 0 }), rule('cleanup', 'all_done')],
    });
    const r = h.json(['dags', 'test', 'recovers', '2026-01-01']);
    expect(statesOf(r.data.tasks)).toEqual({ bad: 'failed', cleanup: 'success' });
    expect(r.data.state).toBe('success');
    expect(r.code).toBe(0);
  });
});
