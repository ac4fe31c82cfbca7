import { enc, get, type TaskInstance } from '../api.js';
import { usePoll } from '../poll.js';

interface Component {
  name: string;
  hash: string;
  value: unknown;
}
interface EntryDetail {
  components: Component[];
}
interface Difference {
  component: string;
  before?: unknown;
  after?: unknown;
  reason: string;
}
interface Explain {
  reasons: string[];
  components: Component[];
  closest: { key: string; source_run_id: string; differences: Difference[] } | null;
}

const short = (v: unknown): string => {
  const s = v === undefined ? '-' : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
};

/** Key components of a hit's entry; for a miss, explain's diff against the closest entry. */
export function CacheDetail({ ti }: { ti: TaskInstance }) {
  const { decision, key } = ti.cache;
  const { data } = usePoll(
    async () => {
      if (decision === 'hit' && key)
        return { entry: await get<EntryDetail>(`/api/v2/cache/entries/${enc(key)}`).catch(() => null), explain: null };
      if (decision === 'miss') {
        const q = `dag_id=${enc(ti.dag_id)}&task_id=${enc(ti.task_id)}&dag_run_id=${enc(ti.dag_run_id)}`;
        return { entry: null, explain: await get<Explain>(`/api/v2/cache/explain?${q}`).catch(() => null) };
      }
      return { entry: null, explain: null };
    },
    [ti.dag_id, ti.dag_run_id, ti.task_id, decision, key],
    0,
  );
  if (!data) return null;
  const components = data.entry?.components ?? data.explain?.components ?? [];
  const diff = data.explain?.closest?.differences ?? [];
  return (
    <>
      {data.explain && (
        <>
          <h3>Explain: this key against the cache now</h3>
          <ul class="reasons" data-testid="explain-reasons">
            {data.explain.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          {diff.length > 0 && (
            <table
              class="diff"
              aria-label={`Differences from the closest entry (run ${data.explain.closest!.source_run_id})`}
            >
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">Entry had</th>
                  <th scope="col">This run has</th>
                </tr>
              </thead>
              <tbody>
                {diff.map((d) => (
                  <tr key={d.component}>
                    <td>{d.component}</td>
                    <td>
                      <code>{short(d.before)}</code>
                    </td>
                    <td>
                      <code>{short(d.after)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {components.length > 0 && (
        <details>
          <summary>Key components ({components.length})</summary>
          <table class="components">
            <thead>
              <tr>
                <th scope="col">Component</th>
                <th scope="col">Hash</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {components.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td>
                    <code>{c.hash.slice(0, 12)}</code>
                  </td>
                  <td>
                    <code>{short(c.value)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </>
  );
}
