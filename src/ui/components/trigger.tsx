import { useState } from 'preact/hooks';
import { dagPath, post, type DagRun } from '../api.js';

/** Trigger a run (queued for a running `miniflow scheduler`), with an optional dag_run.conf. */
export function TriggerButton({ dagId, onDone }: { dagId: string; onDone?: () => void }) {
  const [conf, setConf] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const trigger = async () => {
    setBusy(true);
    try {
      let parsed: unknown = {};
      if (conf.trim()) {
        try {
          parsed = JSON.parse(conf);
        } catch {
          throw new Error('conf is not valid JSON');
        }
      }
      const run = await post<DagRun>(`${dagPath(dagId)}/dagRuns`, { conf: parsed });
      setMessage({ ok: true, text: `Queued run ${run.dag_run_id}` });
      onDone?.();
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="trigger">
      <label>
        conf
        <input
          class="conf"
          placeholder='{"key": "value"}'
          value={conf}
          onInput={(e) => setConf(e.currentTarget.value)}
          aria-label={`dag_run.conf for ${dagId} (JSON object, optional)`}
        />
      </label>
      <button type="button" disabled={busy} onClick={() => void trigger()} aria-label={`Trigger ${dagId}`}>
        ▶ Trigger
      </button>
      {message && (
        <span role="status" class={message.ok ? 'ok' : 'error'}>
          {message.text}
        </span>
      )}
    </div>
  );
}
