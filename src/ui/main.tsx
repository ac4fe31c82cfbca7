import { render } from 'preact';
import './styles.css';
import { TokenField } from './components/token.js';
import { CachePage } from './pages/cache.js';
import { DagList } from './pages/dag-list.js';
import { Graph } from './pages/graph.js';
import { Grid } from './pages/grid.js';
import { ImportErrors } from './pages/import-errors.js';
import { TaskPanel } from './pages/task-panel.js';
import { Link, match, usePath } from './router.js';

function Page({ path }: { path: string }) {
  if (match('/', path)) return <DagList />;
  let m = match('/dags/:dag/grid', path);
  if (m) return <Grid dagId={m.dag} />;
  m = match('/dags/:dag/graph', path);
  if (m) return <Graph dagId={m.dag} />;
  m = match('/dags/:dag/runs/:run/tasks/:task', path);
  if (m) return <TaskPanel key={path} dagId={m.dag} runId={m.run} taskId={m.task} />;
  if (match('/cache', path)) return <CachePage />;
  if (match('/import-errors', path)) return <ImportErrors />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at {path}. <Link href="/">All DAGs</Link>
      </p>
    </section>
  );
}

function App() {
  const path = usePath();
  const here = (p: string) => (path === p ? 'page' : undefined);
  return (
    <>
      <header class="top">
        <Link href="/" class="brand">
          miniflow
        </Link>
        <nav aria-label="Main">
          <Link href="/" aria-current={here('/')}>
            DAGs
          </Link>
          <Link href="/cache" aria-current={here('/cache')}>
            Cache
          </Link>
          <Link href="/import-errors" aria-current={here('/import-errors')}>
            Import errors
          </Link>
        </nav>
        <TokenField />
      </header>
      <main>
        <Page path={path} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the server's "Loading…" placeholder
render(<App />, root);
