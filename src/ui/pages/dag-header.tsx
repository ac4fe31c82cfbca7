import { Link } from '../router.js';
import { TriggerButton } from '../components/trigger.js';

/** The DAG pages' title, Grid / Graph tabs and trigger button. */
export function DagHeader({
  dagId,
  view,
  onTriggered,
}: {
  dagId: string;
  view: 'grid' | 'graph';
  onTriggered?: () => void;
}) {
  const base = `/dags/${encodeURIComponent(dagId)}`;
  return (
    <header class="dag-header">
      <h1>{dagId}</h1>
      <nav class="tabs" aria-label="DAG views">
        <Link href={`${base}/grid`} aria-current={view === 'grid' ? 'page' : undefined}>
          Grid
        </Link>
        <Link href={`${base}/graph`} aria-current={view === 'graph' ? 'page' : undefined}>
          Graph
        </Link>
      </nav>
      <TriggerButton dagId={dagId} onDone={onTriggered} />
    </header>
  );
}
