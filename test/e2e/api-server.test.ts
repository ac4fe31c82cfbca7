// Issue 16: `miniflow api-server` as a real process on a free port, against a real AIRFLOW_HOME with
// runs that missed and hit: every read endpoint, pagination, problem JSON (400/403/404/409), the
// bearer token on writes, and writes a running scheduler then acts on.
import { api, seg, startApiServer, type RunningServer } from '../helpers/api-server.js';
import { TempHome } from '../helpers/cli.js';

const TOKEN = 's3cret-token';

function writeDags(h: TempHome): void {
  h.writeDag({
    dag_id: 'web_demo',
    description: 'two cached tasks and one that always runs',
    tags: ['demo'],
    schedule_interval: '@daily',
    default_args: { cache: true, retries: 0 },
    tasks: [
      {
        task_id: 'extract',
        task_type: 'BashOperator',
        bash_command: 'echo extracting >&2; echo 3,1,4',
        downstream_task_ids: ['load'],
      },
      { task_id: 'load', task_type: 'BashOperator', bash_command: 'echo loaded', downstream_task_ids: ['report'] },
      {
        task_id: 'report',
        task_type: 'BashOperator',
        bash_command: 'echo report',
        cache: false,
        downstream_task_ids: [],
      },
    ],
  });
  h.writeDag({ dag_id: 'other', tasks: [{ task_id: 'only', task_type: 'BashOperator', bash_command: 'echo hi' }] });
  h.write('dags/broken.json', '{ this is not json');
}

describe('miniflow api-server', () => {
  const h = new TempHome();
  let open: RunningServer; // no token configured
  let guarded: RunningServer; // [api] auth_token set
  let url: string;
  let keys: Record<string, string>;

  beforeAll(async () => {
    writeDags(h);
    for (const runId of ['first', 'second']) {
      const r = h.run(['dags', 'test', 'web_demo', '2026-01-01', '--run-id', runId]);
      expect(r.code).toBe(0);
    }
    [open, guarded] = await Promise.all([startApiServer(h), startApiServer(h, { AIRFLOW__API__AUTH_TOKEN: TOKEN })]);
    url = open.url;
    const tis = (await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances')).body.task_instances;
    keys = Object.fromEntries(tis.filter((t: any) => t.cache.key).map((t: any) => [t.task_id, t.cache.key]));
  }, 180_000);

  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()]);
  });

  test('binds to 127.0.0.1 on the free port it was given', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(url.split(':')[2])).toBeGreaterThan(0);
  });

  test('GET /dags lists DAGs with Airflow field names, paged by limit/offset', async () => {
    const all = await api(url, 'GET', '/api/v2/dags');
    expect(all.status).toBe(200);
    expect(all.body.total_entries).toBe(2);
    const demo = all.body.dags.find((d: any) => d.dag_id === 'web_demo');
    expect(demo).toMatchObject({
      dag_id: 'web_demo',
      is_paused: false,
      timetable_summary: '@daily',
      tags: [{ name: 'demo', dag_id: 'web_demo' }],
      description: 'two cached tasks and one that always runs',
    });
    expect(demo.fileloc).toContain('web_demo.json');
    const page = await api(url, 'GET', '/api/v2/dags?limit=1&offset=1');
    expect(page.body).toMatchObject({ total_entries: 2 });
    expect(page.body.dags.map((d: any) => d.dag_id)).toEqual(['web_demo']);
  });

  test('GET /dags/{dag_id} and its tasks; an unknown DAG is a 404 problem with the CLI words', async () => {
    const d = await api(url, 'GET', '/api/v2/dags/web_demo');
    expect(d.body).toMatchObject({ dag_id: 'web_demo', task_ids: ['extract', 'load', 'report'] });
    const tasks = await api(url, 'GET', '/api/v2/dags/web_demo/tasks');
    expect(tasks.body.tasks[0]).toMatchObject({ task_id: 'extract', downstream_task_ids: ['load'] });
    const missing = await api(url, 'GET', '/api/v2/dags/web_dem');
    expect(missing.status).toBe(404);
    expect(missing.type).toContain('application/problem+json');
    expect(missing.body).toMatchObject({ status: 404, title: 'Not Found' });
    expect(missing.body.type).toEqual(expect.any(String));
    expect(missing.body.detail).toContain("DAG 'web_dem' not found; did you mean 'web_demo'?");
  });

  test('GET dagRuns pages the runs; a bad limit is a 400, an unknown run a 404', async () => {
    const runs = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns');
    expect(runs.body.total_entries).toBe(2);
    expect(runs.body.dag_runs[0]).toMatchObject({
      dag_run_id: 'first',
      dag_id: 'web_demo',
      state: 'success',
      logical_date: '2026-01-01T00:00:00.000Z',
      conf: {},
    });
    expect(runs.body.dag_runs[0].start_date).toEqual(expect.any(String));
    const page = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns?limit=1&offset=1');
    expect(page.body.dag_runs.map((r: any) => r.dag_run_id)).toEqual(['second']);
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns?limit=-1')).status).toBe(400);
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns?offset=abc')).status).toBe(400);
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second')).body.state).toBe('success');
    const none = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/third');
    expect(none.status).toBe(404);
    expect(none.body.detail).toContain("DAG 'web_demo' has no run 'third'");
    expect((await api(url, 'GET', '/api/v2/dags/nope/dagRuns')).status).toBe(404);
  });

  test('taskInstances carry the cache object: misses in the first run, hits from it in the second', async () => {
    const first = (await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances')).body;
    expect(first.total_entries).toBe(3);
    const byId = (list: any[]) => Object.fromEntries(list.map((t) => [t.task_id, t]));
    const f = byId(first.task_instances);
    expect(f.extract).toMatchObject({ state: 'success', try_number: 1, map_index: -1 });
    expect(f.extract.duration).toEqual(expect.any(Number));
    expect(f.extract.cache).toMatchObject({ decision: 'miss', source_run_id: null, time_saved: null });
    expect(f.extract.cache.key).toMatch(/^[0-9a-f]{64}$/);
    expect(f.report.cache.decision).toBe('off');
    const s = byId((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second/taskInstances')).body.task_instances);
    expect(s.extract.cache).toMatchObject({ decision: 'hit', key: f.extract.cache.key, source_run_id: 'first' });
    expect(s.extract.cache.time_saved).toEqual(expect.any(Number));
    expect(s.extract.cache.reason).toContain('from run first');
    const page = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second/taskInstances?limit=1&offset=2');
    expect(page.body.task_instances.map((t: any) => t.task_id)).toEqual(['report']);
    const one = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second/taskInstances/load');
    expect(one.body).toMatchObject({ task_id: 'load', dag_run_id: 'second', cache: { decision: 'hit' } });
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second/taskInstances/lod')).status).toBe(404);
  });

  test('logs/{try}: a run try shows its output, a hit says nothing ran; a missing try is a 404', async () => {
    const ran = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances/extract/logs/1');
    expect(ran.status).toBe(200);
    expect(ran.body.content).toContain('extracting');
    const hit = await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/second/taskInstances/extract/logs/1');
    expect(hit.body.content).toContain('Cache hit: no process was started');
    expect(hit.body.content).toContain('produced by run first');
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances/extract/logs/7')).status).toBe(
      404,
    );
    expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances/extract/logs/0')).status).toBe(
      400,
    );
  });

  test('xcomEntries/{key} returns the value, listed and one by one', async () => {
    const base = '/api/v2/dags/web_demo/dagRuns/second/taskInstances/extract/xcomEntries';
    const list = await api(url, 'GET', base);
    expect(list.body).toMatchObject({ total_entries: 1, xcom_entries: [{ key: 'return_value', task_id: 'extract' }] });
    const one = await api(url, 'GET', `${base}/return_value`);
    expect(one.body).toMatchObject({ key: 'return_value', run_id: 'second', value: '3,1,4' });
    expect((await api(url, 'GET', `${base}/nope`)).status).toBe(404);
  });

  test('GET /importErrors names the broken file', async () => {
    const r = await api(url, 'GET', '/api/v2/importErrors');
    expect(r.body.total_entries).toBe(1);
    expect(r.body.import_errors[0].filename).toContain('broken.json');
    expect(r.body.import_errors[0].stack_trace).toEqual(expect.any(String));
    expect((await api(url, 'GET', '/api/v2/importErrors?limit=0')).body.import_errors).toEqual([]);
  });

  test('cache entries: list with filters and paging, one entry with components, prefix and 400/404', async () => {
    const all = await api(url, 'GET', '/api/v2/cache/entries');
    expect(all.body.total_entries).toBe(2);
    expect(all.body.cache_entries.map((e: any) => e.task_id).sort()).toEqual(['extract', 'load']);
    expect(all.body.cache_entries[0]).toMatchObject({ dag_id: 'web_demo', source_run_id: 'first', hits: 1 });
    expect((await api(url, 'GET', '/api/v2/cache/entries?task_id=load')).body.cache_entries).toHaveLength(1);
    expect((await api(url, 'GET', '/api/v2/cache/entries?limit=1')).body).toMatchObject({ total_entries: 2 });
    expect((await api(url, 'GET', '/api/v2/cache/entries?dag_id=other')).body.total_entries).toBe(0);
    const one = await api(url, 'GET', `/api/v2/cache/entries/${keys.extract}`);
    expect(one.body.entry).toMatchObject({ key: keys.extract, task_id: 'extract' });
    expect(one.body.components.map((c: any) => c.name)).toEqual(expect.arrayContaining(['dag_id', 'task_id']));
    expect((await api(url, 'GET', `/api/v2/cache/entries/${keys.extract.slice(0, 10)}`)).body.entry.key).toBe(
      keys.extract,
    );
    const short = await api(url, 'GET', '/api/v2/cache/entries/abc');
    expect(short.status).toBe(400);
    expect(short.body.detail).toContain('too short');
    expect((await api(url, 'GET', `/api/v2/cache/entries/${'0'.repeat(64)}`)).status).toBe(404);
  });

  test('cache/stats: hit rate and time saved overall and per DAG, and hits/misses over time', async () => {
    const r = await api(url, 'GET', '/api/v2/cache/stats');
    expect(r.body.overall).toMatchObject({ hits: 2, misses: 2, hit_rate: 0.5, entries: 2 });
    expect(r.body.overall.time_saved).toBeGreaterThanOrEqual(0);
    expect(r.body.per_dag).toEqual([expect.objectContaining({ dag_id: 'web_demo', hits: 2, misses: 2 })]);
    const buckets = r.body.timeline.buckets as { hits: number; misses: number }[];
    expect(buckets.reduce((n, b) => n + b.hits, 0)).toBe(2);
    expect(buckets.reduce((n, b) => n + b.misses, 0)).toBe(2);
    expect((await api(url, 'GET', '/api/v2/cache/stats?since=yesterday-ish')).status).toBe(400);
  });

  test('cache/explain for a past run; missing parameters 400, unknown task 404', async () => {
    const r = await api(url, 'GET', '/api/v2/cache/explain?dag_id=web_demo&task_id=extract&dag_run_id=second');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dag_id: 'web_demo', task_id: 'extract', key: keys.extract, would_hit: true });
    expect((await api(url, 'GET', '/api/v2/cache/explain?dag_id=web_demo')).status).toBe(400);
    const t = await api(url, 'GET', '/api/v2/cache/explain?dag_id=web_demo&task_id=extrac');
    expect(t.status).toBe(404);
    expect(t.body.detail).toContain("did you mean 'extract'");
    expect((await api(url, 'GET', '/api/v2/cache/explain?dag_id=web_demo&task_id=extract&dag_run_id=zzz')).status).toBe(
      404,
    );
  });

  test('openapi.json is built from the route schemas', async () => {
    const doc = (await api(url, 'GET', '/api/v2/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v2/dags',
        '/api/v2/dags/{dag_id}/dagRuns',
        '/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}',
        '/api/v2/cache/explain',
      ]),
    );
    expect(doc.paths['/api/v2/dags/{dag_id}/dagRuns'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  test('unknown API paths are problem 404s; other paths serve the UI page', async () => {
    expect((await api(url, 'GET', '/api/v2/nothing')).status).toBe(404);
    const page = await api(url, 'GET', '/dags/web_demo/grid');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
  });

  describe('writes', () => {
    const g = () => guarded.url;

    test('without a configured token every write is refused with 403', async () => {
      const r = await api(url, 'POST', '/api/v2/dags/web_demo/dagRuns', { body: {}, token: 'anything' });
      expect(r.status).toBe(403);
      expect(r.body.detail).toContain('[api] auth_token');
      expect((await api(url, 'PATCH', '/api/v2/dags/web_demo', { body: { is_paused: true } })).status).toBe(403);
      expect((await api(url, 'DELETE', `/api/v2/cache/entries/${keys.load}`)).status).toBe(403);
    });

    test('with a token: a missing or wrong bearer is 403, the right one triggers a queued run', async () => {
      expect((await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', { body: {} })).status).toBe(403);
      expect((await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', { body: {}, token: 'wrong' })).status).toBe(403);
      const r = await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', {
        body: { dag_run_id: 'from_api', conf: { model: 'lasso' } },
        token: TOKEN,
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ dag_run_id: 'from_api', state: 'queued', conf: { model: 'lasso' } });
      const dup = await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', {
        body: { dag_run_id: 'from_api' },
        token: TOKEN,
      });
      expect(dup.status).toBe(409);
    });

    test('bad conf is a 400 in the CLI words; an unknown DAG a 404; malformed JSON a 400', async () => {
      const bad = await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', { body: { conf: [1, 2] }, token: TOKEN });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('conf must be a JSON object');
      const date = await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', {
        body: { logical_date: 'tomorrow' },
        token: TOKEN,
      });
      expect(date.status).toBe(400);
      expect(date.body.detail).toContain('logical_date');
      expect((await api(g(), 'POST', '/api/v2/dags/nope/dagRuns', { body: {}, token: TOKEN })).status).toBe(404);
      const raw = await api(g(), 'POST', '/api/v2/dags/web_demo/dagRuns', { rawBody: '{oops', token: TOKEN });
      expect(raw.status).toBe(400);
    });

    test('PATCH /dags/{dag_id} pauses and unpauses (stored in the dag table)', async () => {
      const p = await api(g(), 'PATCH', '/api/v2/dags/other', { body: { is_paused: true }, token: TOKEN });
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ dag_id: 'other', is_paused: true });
      expect((await api(url, 'GET', '/api/v2/dags/other')).body.is_paused).toBe(true);
      expect((await api(url, 'GET', '/api/v2/dags?paused=true')).body.dags.map((d: any) => d.dag_id)).toEqual([
        'other',
      ]);
      expect(
        (await api(g(), 'PATCH', '/api/v2/dags/other', { body: { is_paused: 'maybe' }, token: TOKEN })).status,
      ).toBe(400);
      expect((await api(g(), 'PATCH', '/api/v2/dags/other', { body: {}, token: TOKEN })).status).toBe(400);
      await api(g(), 'PATCH', '/api/v2/dags/other', { body: { is_paused: false }, token: TOKEN });
      expect((await api(url, 'GET', '/api/v2/dags/other')).body.is_paused).toBe(false);
    });

    test('clearTaskInstances: a dry run changes nothing; a real clear re-queues the run for the scheduler', async () => {
      const path = '/api/v2/dags/web_demo/clearTaskInstances';
      const dry = await api(g(), 'POST', path, { body: { dag_run_id: 'first', task_ids: ['load'] }, token: TOKEN });
      expect(dry.status).toBe(200);
      expect(dry.body.task_instances.map((t: any) => t.task_id)).toEqual(['load']);
      expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first')).body.state).toBe('success');
      const unknown = await api(g(), 'POST', path, { body: { task_ids: ['lod'], dry_run: false }, token: TOKEN });
      expect(unknown.status).toBe(404);
      const real = await api(g(), 'POST', path, {
        body: { dag_run_id: 'first', task_ids: ['load'], include_downstream: true, dry_run: false },
        token: TOKEN,
      });
      expect(real.body.task_instances.map((t: any) => t.task_id).sort()).toEqual(['load', 'report']);
      expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first')).body.state).toBe('queued');
      const ti = (await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances/load')).body;
      expect(ti).toMatchObject({ state: null, try_number: 1 });
      // A scheduler picks up the re-queued run (and the API-triggered one): load is now served from the cache.
      expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
      const after = (await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/first/taskInstances/load')).body;
      expect(after).toMatchObject({
        state: 'success',
        try_number: 2,
        cache: { decision: 'hit', source_run_id: 'first' },
      });
      expect((await api(url, 'GET', '/api/v2/dags/web_demo/dagRuns/from_api')).body.state).toBe('success');
    }, 120_000);

    test('DELETE /cache/entries/{key} invalidates: 204, then the entry is gone (404)', async () => {
      const d = await api(g(), 'DELETE', `/api/v2/cache/entries/${keys.load}`, { token: TOKEN });
      expect(d.status).toBe(204);
      expect((await api(url, 'GET', `/api/v2/cache/entries/${keys.load}`)).status).toBe(404);
      expect((await api(g(), 'DELETE', `/api/v2/cache/entries/${keys.load}`, { token: TOKEN })).status).toBe(404);
    });
  });

  test('run ids with + and : work as path segments', async () => {
    const r = h.run(['dags', 'test', 'other', '2026-03-01']);
    expect(r.code).toBe(0);
    const runs = (await api(url, 'GET', '/api/v2/dags/other/dagRuns')).body.dag_runs;
    const id = runs.at(-1).dag_run_id as string;
    expect(id).toContain('+00:00');
    expect((await api(url, 'GET', `/api/v2/dags/other/dagRuns/${seg(id)}/taskInstances`)).body.total_entries).toBe(1);
  });
});
