import { Runtime } from '../runtime.js';

/** Opens the runtime for one command and always closes it (the SQLite handle, the cache backend). */
export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await Runtime.open();
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
