import { useEffect, useState } from 'preact/hooks';

/** How often live pages re-read the API: often enough to watch a run, light on the server. */
export const POLL_MS = 1500;

export interface Polled<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** Loads now and every `everyMs` while the component is shown; the last good data stays on an error. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs = POLL_MS): Polled<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    const tick = async () => {
      try {
        const data = await load();
        if (alive) setState({ data, error: null });
      } catch (e) {
        if (alive) setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String(e) }));
      }
      if (alive && everyMs > 0) timer = window.setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [...deps, nonce]);
  return { ...state, reload: () => setNonce((n) => n + 1) };
}
