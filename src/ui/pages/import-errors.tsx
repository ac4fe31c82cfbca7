import { get } from '../api.js';
import { usePoll } from '../poll.js';
import { when } from '../states.js';

interface ImportError {
  import_error_id: number;
  timestamp: string;
  filename: string;
  bundle_name: string;
  stack_trace: string;
}

/** `/import-errors`: DAG files that failed to load, with the reason. */
export function ImportErrors() {
  const { data, error } = usePoll(
    () => get<{ import_errors: ImportError[] }>('/api/v2/importErrors?limit=1000'),
    [],
    5000,
  );
  return (
    <section>
      <h1>Import errors</h1>
      {error && <p role="alert">{error}</p>}
      {data && data.import_errors.length === 0 && <p>No import errors: every DAG file loaded.</p>}
      {data?.import_errors.map((e) => (
        <article key={e.import_error_id} class="import-error">
          <h2>{e.filename}</h2>
          <p class="muted">
            bundle {e.bundle_name}, {when(e.timestamp)}
          </p>
          <pre>{e.stack_trace}</pre>
        </article>
      ))}
    </section>
  );
}
