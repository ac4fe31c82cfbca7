import type { TaskInstance } from '../api.js';
import { panelHref } from '../api.js';
import { Link } from '../router.js';
import { colourOf, isHit, stateName, tiLabel } from '../states.js';

/**
 * One grid cell: the state's colour, and for a cache hit a hollow ring mark in the middle (a hit is
 * a success that ran nothing). A link to the task instance panel; its label says the state and
 * "cache hit".
 */
export function TiCell({
  dagId,
  runId,
  taskId,
  ti,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  ti?: TaskInstance;
}) {
  const hit = isHit(ti);
  const state = stateName(ti?.state ?? null);
  return (
    <Link
      href={panelHref(dagId, runId, taskId)}
      class={`cell state-${state}${hit ? ' hit' : ''}`}
      style={{ background: colourOf(ti?.state ?? null) }}
      aria-label={tiLabel(taskId, runId, ti)}
      title={tiLabel(taskId, runId, ti)}
      data-state={state}
      data-cache={ti?.cache.decision ?? 'none'}
    >
      {hit && <span class="hit-mark" aria-hidden="true" />}
    </Link>
  );
}

/** A run's state as a small square (the DAG list's last runs). */
export function RunSquare({ state, label, href }: { state: string; label: string; href: string }) {
  return (
    <Link href={href} class="run-square" style={{ background: colourOf(state) }} aria-label={label} title={label} />
  );
}
