import { useState } from 'preact/hooks';
import { del, enc, get } from '../api.js';
import { usePoll } from '../poll.js';
import { Link } from '../router.js';
import { when } from '../states.js';
import { HitChart, type Bucket } from './hit-chart.js';

interface StatsRow {
  hits: number;
  misses: number;
  bypasses: number;
  hit_rate: number | null;
  entries: number;
  bytes: number;
  time_saved: number;
}
interface Stats {
  backend: string;
  overall: StatsRow;
  per_dag: (StatsRow & { dag_id: string })[];
  timeline: { bucket_seconds: number; buckets: Bucket[] };
}
interface Entry {
  key: string;
  short_key: string;
  dag_id: string;
  task_id: string;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
  size_bytes: number;
  hits: number;
  source_run_id: string;
  duration: number;
}

const rate = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/** `/cache`: stats (hit rate and time saved per DAG, hits/misses over time) and the entries, filtered. */
export function CachePage() {
  const [dagId, setDagId] = useState('');
  const [taskId, setTaskId] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const stats = usePoll(() => get<Stats>('/api/v2/cache/stats'), [], 3000);
  const q = `${dagId ? `&dag_id=${enc(dagId)}` : ''}${taskId ? `&task_id=${enc(taskId)}` : ''}`;
  const entries = usePoll(
    () => get<{ cache_entries: Entry[]; total_entries: number }>(`/api/v2/cache/entries?limit=200${q}`),
    [q],
    3000,
  );
  const invalidate = async (e: Entry) => {
    try {
      await del(`/api/v2/cache/entries/${enc(e.key)}`);
      setMessage(`Invalidated ${e.short_key} (${e.dag_id}.${e.task_id})`);
      entries.reload();
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    }
  };
  const s = stats.data;
  return (
    <section>
      <h1>Cache</h1>
      {s && (
        <div class="stats" data-testid="cache-stats">
          <p class="overall">
            Backend <strong>{s.backend}</strong>:{' '}
            <strong data-testid="hit-rate">hit rate {rate(s.overall.hit_rate)}</strong> ({s.overall.hits} hits,{' '}
            {s.overall.misses} misses), {s.overall.entries} entries,{' '}
            <strong data-testid="time-saved">{s.overall.time_saved.toFixed(3)}s saved</strong>
          </p>
          <table class="per-dag" aria-label="Cache statistics per DAG">
            <thead>
              <tr>
                <th scope="col">DAG</th>
                <th scope="col">Hit rate</th>
                <th scope="col">Hits</th>
                <th scope="col">Misses</th>
                <th scope="col">Entries</th>
                <th scope="col">Time saved</th>
              </tr>
            </thead>
            <tbody>
              {s.per_dag.map((d) => (
                <tr key={d.dag_id}>
                  <td>
                    <Link href={`/dags/${enc(d.dag_id)}/grid`}>{d.dag_id}</Link>
                  </td>
                  <td>{rate(d.hit_rate)}</td>
                  <td>{d.hits}</td>
                  <td>{d.misses}</td>
                  <td>{d.entries}</td>
                  <td>{d.time_saved.toFixed(3)}s</td>
                </tr>
              ))}
            </tbody>
          </table>
          <HitChart buckets={s.timeline.buckets} bucketSeconds={s.timeline.bucket_seconds} />
        </div>
      )}
      <h2>Entries</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter entries">
        <label>
          DAG id <input value={dagId} onInput={(e) => setDagId(e.currentTarget.value)} />
        </label>
        <label>
          Task id <input value={taskId} onInput={(e) => setTaskId(e.currentTarget.value)} />
        </label>
      </form>
      {message && (
        <p role="status" class="muted">
          {message}
        </p>
      )}
      {entries.error && <p role="alert">{entries.error}</p>}
      {entries.data && (
        <div class="table-wrap">
          <table class="entries">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Task</th>
                <th scope="col">Produced by run</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Hits</th>
                <th scope="col">Saves</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.data.cache_entries.map((e) => (
                <tr key={e.key}>
                  <td>
                    <code title={e.key}>{e.short_key}</code>
                  </td>
                  <td>
                    {e.dag_id}.{e.task_id}
                  </td>
                  <td>
                    <Link href={`/dags/${enc(e.dag_id)}/runs/${enc(e.source_run_id)}/tasks/${enc(e.task_id)}`}>
                      {e.source_run_id}
                    </Link>
                  </td>
                  <td>{when(e.created_at)}</td>
                  <td>{e.expires_at ? `${when(e.expires_at)}${e.expired ? ' (expired)' : ''}` : 'never'}</td>
                  <td>{e.hits}</td>
                  <td>{e.duration.toFixed(3)}s</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => void invalidate(e)}
                      aria-label={`Invalidate entry ${e.short_key}`}
                    >
                      Invalidate
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted">{entries.data.total_entries} entries</p>
        </div>
      )}
    </section>
  );
}
