import { useState } from 'preact/hooks';
import { dagPath, get, latestRuns, panelHref, taskInstances, type TaskDef } from '../api.js';
import { layoutDag, NODE_H, NODE_W } from '../layout.js';
import { usePoll } from '../poll.js';
import { navigate } from '../router.js';
import { colourOf, isHit, stateName, tiLabel } from '../states.js';
import { DagHeader } from './dag-header.js';
import { Legend } from './grid.js';

async function loadGraph(dagId: string, wanted: string | null) {
  const [tasks, runs] = await Promise.all([
    get<{ tasks: TaskDef[] }>(`${dagPath(dagId)}/tasks`).then((r) => r.tasks),
    latestRuns(dagId, 25),
  ]);
  const runId = wanted ?? runs.at(-1)?.dag_run_id ?? null;
  const tis = runId ? await taskInstances(dagId, runId) : [];
  return { tasks, runs, runId, tis: new Map(tis.map((t) => [t.task_id, t])) };
}

/** `/dags/{dag_id}/graph`: tasks and edges laid out in layers, coloured by a run's states, hits marked. */
export function Graph({ dagId }: { dagId: string }) {
  const [picked, setPicked] = useState<string | null>(null);
  const { data, error, reload } = usePoll(() => loadGraph(dagId, picked), [dagId, picked]);
  if (data === null) return <section>{error ? <p role="alert">{error}</p> : <p>Loading…</p>}</section>;
  const down = new Map(data.tasks.map((t) => [t.task_id, t.downstream_task_ids]));
  const lay = layoutDag(
    data.tasks.map((t) => t.task_id),
    down,
  );
  const at = new Map(lay.nodes.map((n) => [n.id, n]));
  const runId = data.runId;
  return (
    <section>
      <DagHeader dagId={dagId} view="graph" onTriggered={reload} />
      {data.runs.length > 0 && (
        <label class="run-pick">
          Run{' '}
          <select value={runId ?? ''} onChange={(e) => setPicked(e.currentTarget.value)}>
            {data.runs.map((r) => (
              <option key={r.dag_run_id} value={r.dag_run_id}>
                {r.dag_run_id} ({r.state})
              </option>
            ))}
          </select>
        </label>
      )}
      <div class="graph-wrap">
        <svg
          class="graph"
          width={lay.width}
          height={lay.height}
          viewBox={`0 0 ${lay.width} ${lay.height}`}
          role="group"
          aria-label={`Graph of ${dagId}${runId ? ` in run ${runId}` : ''}`}
        >
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" fill="#555" />
            </marker>
          </defs>
          {data.tasks.flatMap((t) =>
            t.downstream_task_ids.map((d) => {
              const a = at.get(t.task_id)!;
              const b = at.get(d);
              if (!b) return null;
              return (
                <line
                  key={`${t.task_id}->${d}`}
                  class="edge"
                  x1={a.x + NODE_W}
                  y1={a.y + NODE_H / 2}
                  x2={b.x}
                  y2={b.y + NODE_H / 2}
                  marker-end="url(#arrow)"
                />
              );
            }),
          )}
          {lay.nodes.map((n) => {
            const ti = data.tis.get(n.id);
            const hit = isHit(ti);
            const label = runId ? tiLabel(n.id, runId, ti) : `${n.id}: no runs yet`;
            const open = () => runId && navigate(panelHref(dagId, runId, n.id));
            return (
              <g
                key={n.id}
                class={`node${hit ? ' hit' : ''}`}
                data-state={stateName(ti?.state ?? null)}
                data-cache={ti?.cache.decision ?? 'none'}
                transform={`translate(${n.x},${n.y})`}
                role="link"
                tabIndex={0}
                aria-label={label}
                onClick={open}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && open()}
              >
                <title>{label}</title>
                <rect
                  width={NODE_W}
                  height={NODE_H}
                  rx="6"
                  fill="#fff"
                  stroke={colourOf(ti?.state ?? null)}
                  stroke-width="4"
                />
                <text x="10" y="19" class="node-name">
                  {n.id.length > 18 ? `${n.id.slice(0, 17)}…` : n.id}
                </text>
                <text x="10" y="35" class="node-state">
                  {stateName(ti?.state ?? null)}
                  {hit ? ' · cache hit' : ''}
                </text>
                {hit && <circle cx={NODE_W - 14} cy="14" r="6" class="hit-dot" />}
              </g>
            );
          })}
        </svg>
      </div>
      <Legend />
    </section>
  );
}
