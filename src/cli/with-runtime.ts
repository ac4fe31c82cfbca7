import type { Runtime } from '../runtime.js';

/**
 * Opens the runtime for one command and always closes it (the SQLite handle, the cache backend).
 * The runtime (DB driver, DAG parsing, scheduler) is imported only now: `--help` and config commands
 * never load it.
 */
export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const { Runtime } = await import('../runtime.js');
  const rt = await Runtime.open();
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
