import { dagPath, get, latestRuns, patch, type Dag, type DagRun } from '../api.js';
import { RunSquare } from '../components/cell.js';
import { TriggerButton } from '../components/trigger.js';
import { usePoll } from '../poll.js';
import { Link } from '../router.js';
import { when } from '../states.js';
import { useState } from 'preact/hooks';

const LAST_RUNS = 8;

/** `/`: every DAG with its schedule, paused flag and last runs as coloured squares. */
export function DagList() {
  const [error, setError] = useState<string | null>(null);
  const {
    data,
    error: loadError,
    reload,
  } = usePoll(async () => {
    const dags = (await get<{ dags: Dag[] }>('/api/v2/dags?limit=1000')).dags;
    const runs = await Promise.all(dags.map((d) => latestRuns(d.dag_id, LAST_RUNS)));
    return dags.map((d, i) => ({ dag: d, runs: runs[i] }));
  }, []);
  const togglePause = async (dag: Dag) => {
    try {
      await patch(dagPath(dag.dag_id), { is_paused: !dag.is_paused });
      setError(null);
      reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <h1>DAGs</h1>
      {(error ?? loadError) && (
        <p role="alert" class="error">
          {error ?? loadError}
        </p>
      )}
      {data === null ? (
        <p>Loading…</p>
      ) : data.length === 0 ? (
        <p>
          No DAGs loaded. See <Link href="/import-errors">import errors</Link>.
        </p>
      ) : (
        <table class="dags">
          <thead>
            <tr>
              <th scope="col">DAG</th>
              <th scope="col">Schedule</th>
              <th scope="col">Paused</th>
              <th scope="col">Last runs</th>
              <th scope="col">Trigger</th>
            </tr>
          </thead>
          <tbody>
            {data.map(({ dag, runs }) => (
              <tr key={dag.dag_id}>
                <td>
                  <Link href={`/dags/${encodeURIComponent(dag.dag_id)}/grid`}>{dag.dag_id}</Link>
                  {dag.description && <div class="muted">{dag.description}</div>}
                  {dag.tags.length > 0 && <div class="tags">{dag.tags.map((t) => t.name).join(', ')}</div>}
                </td>
                <td>{dag.timetable_summary ?? 'None (triggered)'}</td>
                <td>
                  <button
                    type="button"
                    class="pause"
                    aria-pressed={dag.is_paused}
                    aria-label={`${dag.dag_id} is ${dag.is_paused ? 'paused: unpause' : 'active: pause'}`}
                    onClick={() => void togglePause(dag)}
                  >
                    {dag.is_paused ? 'paused' : 'active'}
                  </button>
                </td>
                <td class="squares">
                  {runs.length === 0
                    ? '-'
                    : runs.map((r: DagRun) => (
                        <RunSquare
                          key={r.dag_run_id}
                          state={r.state}
                          href={`/dags/${encodeURIComponent(dag.dag_id)}/grid`}
                          label={`run ${r.dag_run_id} (${when(r.logical_date)}): ${r.state}`}
                        />
                      ))}
                </td>
                <td>
                  <TriggerButton dagId={dag.dag_id} onDone={reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
