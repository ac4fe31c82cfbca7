import { enc, get, panelHref, tiPath, type TaskInstance } from '../api.js';
import { usePoll } from '../poll.js';
import { Link } from '../router.js';
import { colourOf, isHit, seconds, stateName, when } from '../states.js';
import { CacheDetail } from './cache-detail.js';

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
}

async function loadPanel({ dagId, runId, taskId }: Props) {
  const ti = await get<TaskInstance>(tiPath(dagId, runId, taskId));
  const log =
    ti.try_number > 0
      ? await get<{ content: string }>(`${tiPath(dagId, runId, taskId)}/logs/${ti.try_number}`)
          .then((l) => l.content)
          .catch((e: Error) => `(no log: ${e.message})`)
      : '(not run yet: no log)';
  const xcom = await get<{ value: unknown }>(`${tiPath(dagId, runId, taskId)}/xcomEntries/return_value`)
    .then((x) => x.value)
    .catch(() => undefined);
  return { ti, log, xcom };
}

/** `/dags/{dag_id}/runs/{run_id}/tasks/{task_id}`: try, duration, log, XCom and the cache decision, live. */
export function TaskPanel(props: Props) {
  const { dagId, runId, taskId } = props;
  const { data, error } = usePoll(() => loadPanel(props), [dagId, runId, taskId]);
  const ti = data?.ti;
  return (
    <section class="panel" aria-labelledby="panel-title">
      <p class="crumbs">
        <Link href={`/dags/${enc(dagId)}/grid`}>{dagId}</Link> / {runId}
      </p>
      <h1 id="panel-title">Task {taskId}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {ti && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class="swatch" style={{ background: colourOf(ti.state) }} />{' '}
              <strong data-testid="ti-state">{stateName(ti.state)}</strong>
              {isHit(ti) && <span class="badge hit-badge"> cache hit: nothing ran</span>}
            </dd>
            <dt>Try</dt>
            <dd>
              {ti.try_number} of {ti.max_tries + 1}
            </dd>
            <dt>Duration</dt>
            <dd>{seconds(ti.duration)}</dd>
            <dt>Started / ended</dt>
            <dd>
              {when(ti.start_date)} / {when(ti.end_date)}
            </dd>
            <dt>Operator</dt>
            <dd>{ti.operator}</dd>
            {ti.error && (
              <>
                <dt>Error</dt>
                <dd class="error">{ti.error}</dd>
              </>
            )}
          </dl>
          <h2>Cache</h2>
          <dl class="facts cache-facts">
            <dt>Decision</dt>
            <dd data-testid="cache-decision">{ti.cache.decision}</dd>
            <dt>Reason</dt>
            <dd data-testid="cache-reason">{ti.cache.reason}</dd>
            {ti.cache.source_run_id && (
              <>
                <dt>Produced by run</dt>
                <dd>
                  <Link href={panelHref(dagId, ti.cache.source_run_id, taskId)}>{ti.cache.source_run_id}</Link>
                </dd>
                <dt>Time saved</dt>
                <dd>{seconds(ti.cache.time_saved)}</dd>
              </>
            )}
            {ti.cache.key && (
              <>
                <dt>Key</dt>
                <dd>
                  <code class="key">{ti.cache.key}</code>
                </dd>
              </>
            )}
          </dl>
          <CacheDetail ti={ti} />
          <h2>XCom return_value</h2>
          <pre class="xcom">{data.xcom === undefined ? '(none)' : JSON.stringify(data.xcom, null, 2)}</pre>
          <h2>Log (try {ti.try_number})</h2>
          <pre class="log" aria-live="polite">
            {data.log}
          </pre>
        </>
      )}
    </section>
  );
}
