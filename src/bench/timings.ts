import type { SchedulerEvents } from '../scheduler/events.js';

/** What the benchmark measures of one run, from the scheduler's events. */
export interface SchedulerTimings {
  /** Per loop iteration (one tick), ms. */
  loopTimesMs: number[];
  /**
   * Per cache hit, ms on the monotonic clock from "ready" (trigger rule met) to its success row
   * committed: key, lookup and the DB writes, and any wait for the hits it rests on.
   */
  hitCostsMs: number[];
  /**
   * Per cache hit, wall and CPU of the whole process (every thread: SQLite's included) from the
   * later of its "ready" and the previous hit's commit to its own commit. A hit's downstream is
   * keyed while the hit's write commits (in a chain, "ready" comes before the upstream's commit):
   * these spans do not overlap, and in a chain, one hit at a time, they are what each hit adds.
   */
  hitAfterPreviousMs: number[];
  hitAfterPreviousCpuMs: number[];
  /**
   * Per cache miss (by task instance id): what caching added to its try, the check (key + lookup)
   * plus the store after the run; wall and process CPU, ms.
   */
  missCache: Map<number, { wallMs: number; cpuMs: number }>;
}

type SpanStart = { wall: number; cpu: NodeJS.CpuUsage };

const spanStart = (): SpanStart => ({ wall: performance.now(), cpu: process.cpuUsage() });

function spanSince(start: SpanStart, end: SpanStart = spanStart()): { wallMs: number; cpuMs: number } {
  const cpuMicros = end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system;
  return { wallMs: end.wall - start.wall, cpuMs: cpuMicros / 1000 };
}

/**
 * Listens to a scheduler's events and keeps the benchmark's timings. Each listener reads the clock
 * and the process CPU at the moment the scheduler emits (events are synchronous). Returns the
 * timings, filled as the run goes, and a function that stops listening.
 */
export function recordTimings(events: SchedulerEvents): { timings: SchedulerTimings; stop: () => void } {
  const timings: SchedulerTimings = {
    loopTimesMs: [],
    hitCostsMs: [],
    hitAfterPreviousMs: [],
    hitAfterPreviousCpuMs: [],
    missCache: new Map(),
  };
  let lastCommit: SpanStart | null = null;
  const ready = new Map<number, SpanStart>();
  const checking = new Map<number, SpanStart>();
  const storing = new Map<number, SpanStart>();
  const addMissSpan = (tiId: number, start: SpanStart | undefined) => {
    if (!start) return;
    const { wallMs, cpuMs } = spanSince(start);
    const seen = timings.missCache.get(tiId) ?? { wallMs: 0, cpuMs: 0 };
    timings.missCache.set(tiId, { wallMs: seen.wallMs + wallMs, cpuMs: seen.cpuMs + cpuMs });
  };
  const offs = [
    events.on('tick', ({ ms }) => timings.loopTimesMs.push(ms)),
    events.on('ready', ({ tiId }) => ready.set(tiId, spanStart())),
    events.on('checkStarted', ({ tiId }) => checking.set(tiId, spanStart())),
    events.on('checked', ({ tiId, decision }) => {
      if (decision === 'miss') addMissSpan(tiId, checking.get(tiId));
      checking.delete(tiId);
      if (decision !== 'hit') ready.delete(tiId);
    }),
    events.on('hitCommitted', ({ tiId }) => {
      const start = ready.get(tiId);
      ready.delete(tiId);
      if (!start) return;
      // One reading of the clock and CPU for both spans and the next hit's start.
      const now = spanStart();
      timings.hitCostsMs.push(now.wall - start.wall);
      const since = spanSince(lastCommit && lastCommit.wall > start.wall ? lastCommit : start, now);
      timings.hitAfterPreviousMs.push(since.wallMs);
      timings.hitAfterPreviousCpuMs.push(since.cpuMs);
      lastCommit = now;
    }),
    events.on('storeStarted', ({ tiId }) => storing.set(tiId, spanStart())),
    events.on('missStored', ({ tiId }) => {
      addMissSpan(tiId, storing.get(tiId));
      storing.delete(tiId);
    }),
  ];
  return { timings, stop: () => offs.forEach((off) => off()) };
}
