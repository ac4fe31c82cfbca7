import { dagPath, get, latestRuns, taskInstances, type DagRun, type TaskDef, type TaskInstance } from '../api.js';
import { TiCell } from '../components/cell.js';
import { usePoll } from '../poll.js';
import { colourOf, when } from '../states.js';
import { DagHeader } from './dag-header.js';

const RUNS_SHOWN = 12;

interface GridData {
  tasks: TaskDef[];
  runs: DagRun[];
  tis: Map<string, Map<string, TaskInstance>>;
}

async function loadGrid(dagId: string): Promise<GridData> {
  const [tasks, runs] = await Promise.all([
    get<{ tasks: TaskDef[] }>(`${dagPath(dagId)}/tasks`).then((r) => r.tasks),
    latestRuns(dagId, RUNS_SHOWN),
  ]);
  const perRun = await Promise.all(runs.map((r) => taskInstances(dagId, r.dag_run_id)));
  const tis = new Map(runs.map((r, i) => [r.dag_run_id, new Map(perRun[i].map((t) => [t.task_id, t]))]));
  return { tasks, runs, tis };
}

/** `/dags/{dag_id}/grid`: runs (columns, oldest left) x tasks (rows), live. */
export function Grid({ dagId }: { dagId: string }) {
  const { data, error, reload } = usePoll(() => loadGrid(dagId), [dagId]);
  return (
    <section>
      <DagHeader dagId={dagId} view="grid" onTriggered={reload} />
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {data === null ? (
        <p>Loading…</p>
      ) : data.runs.length === 0 ? (
        <p>No runs yet: trigger one.</p>
      ) : (
        <div class="grid-wrap">
          <table class="grid" aria-label={`Task instances of ${dagId}: runs by tasks`}>
            <thead>
              <tr>
                <th scope="col">Task</th>
                {data.runs.map((r) => (
                  <th scope="col" key={r.dag_run_id} class="run-head">
                    <span
                      class="run-bar"
                      style={{ background: colourOf(r.state) }}
                      role="img"
                      aria-label={`run ${r.dag_run_id}: ${r.state}`}
                      title={`${r.dag_run_id}\n${when(r.logical_date)}\n${r.state}`}
                    />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.tasks.map((t) => (
                <tr key={t.task_id}>
                  <th scope="row" class="task-name">
                    {t.task_id}
                  </th>
                  {data.runs.map((r) => (
                    <td key={r.dag_run_id}>
                      <TiCell
                        dagId={dagId}
                        runId={r.dag_run_id}
                        taskId={t.task_id}
                        ti={data.tis.get(r.dag_run_id)?.get(t.task_id)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <Legend />
        </div>
      )}
    </section>
  );
}

export function Legend() {
  const shown = ['success', 'failed', 'running', 'queued', 'up_for_retry', 'upstream_failed', 'skipped', 'none'];
  return (
    <ul class="legend" aria-label="Legend">
      {shown.map((s) => (
        <li key={s}>
          <span class="swatch" style={{ background: colourOf(s === 'none' ? null : s) }} /> {s}
        </li>
      ))}
      <li>
        <span class="swatch hit" style={{ background: colourOf('success') }}>
          <span class="hit-mark" />
        </span>{' '}
        success from the cache (nothing ran)
      </li>
    </ul>
  );
}
