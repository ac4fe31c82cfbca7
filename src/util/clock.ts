/** Time comes in through a Clock so TTL and retry tests never sleep. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * `MINIFLOW_FAKE_NOW` (ISO date) pins the clock of a CLI process, and `MINIFLOW_FAKE_NOW_OFFSET`
 * (seconds) shifts it; end-to-end tests use these to cross TTLs and retry delays without sleeping.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const fixed = env.MINIFLOW_FAKE_NOW;
  const offset = Number(env.MINIFLOW_FAKE_NOW_OFFSET ?? 0) * 1000;
  if (fixed) {
    const base = new Date(fixed).getTime();
    if (Number.isNaN(base)) throw new Error(`MINIFLOW_FAKE_NOW is not a date: ${fixed}`);
    const startedAt = Date.now();
    return { now: () => new Date(base + offset + (Date.now() - startedAt)) };
  }
  if (offset) return { now: () => new Date(Date.now() + offset) };
  return systemClock;
}
