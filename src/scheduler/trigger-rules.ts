import type { TriggerRule } from '../dag/model.js';
import { TI } from '../models/states.js';

/** How many direct upstream task instances are in each finished state. */
export interface UpstreamCounts {
  total: number;
  success: number;
  skipped: number;
  failed: number;
  upstreamFailed: number;
}

/** What the trigger rule says about a task instance whose state is still none. */
export type Readiness = 'run' | 'wait' | typeof TI.SKIPPED | typeof TI.UPSTREAM_FAILED;

export function countUpstream(states: Iterable<string | null | undefined>): UpstreamCounts {
  const c: UpstreamCounts = { total: 0, success: 0, skipped: 0, failed: 0, upstreamFailed: 0 };
  for (const s of states) {
    c.total++;
    addToCounts(c, s, 1);
  }
  return c;
}

/** Adds (delta 1) or removes (delta -1) one finished state; unfinished states are only in `total`. */
export function addToCounts(c: UpstreamCounts, state: string | null | undefined, delta: 1 | -1): void {
  if (state === TI.SUCCESS) c.success += delta;
  else if (state === TI.SKIPPED) c.skipped += delta;
  else if (state === TI.FAILED) c.failed += delta;
  else if (state === TI.UPSTREAM_FAILED) c.upstreamFailed += delta;
}

const done = (c: UpstreamCounts) => c.success + c.skipped + c.failed + c.upstreamFailed === c.total;
const anyFailed = (c: UpstreamCounts) => c.failed + c.upstreamFailed > 0;

/** One function per rule, following Airflow's TriggerRuleDep (with flag_upstream_failed on). */
const RULES: Record<TriggerRule, (c: UpstreamCounts) => Readiness> = {
  all_success: (c) =>
    anyFailed(c) ? TI.UPSTREAM_FAILED : c.skipped > 0 ? TI.SKIPPED : c.success === c.total ? 'run' : 'wait',
  all_failed: (c) => (c.success + c.skipped > 0 ? TI.SKIPPED : done(c) ? 'run' : 'wait'),
  all_done: (c) => (done(c) ? 'run' : 'wait'),
  one_success: (c) => {
    if (c.success > 0) return 'run';
    if (!done(c)) return 'wait';
    return c.skipped === c.total ? TI.SKIPPED : TI.UPSTREAM_FAILED;
  },
  one_failed: (c) => (anyFailed(c) ? 'run' : done(c) ? TI.SKIPPED : 'wait'),
  none_failed: (c) => (anyFailed(c) ? TI.UPSTREAM_FAILED : done(c) ? 'run' : 'wait'),
  none_skipped: (c) => (c.skipped > 0 ? TI.SKIPPED : done(c) ? 'run' : 'wait'),
  always: () => 'run',
};

export function evaluateTriggerRule(rule: TriggerRule, upstream: UpstreamCounts): Readiness {
  if (upstream.total === 0) return 'run';
  return RULES[rule](upstream);
}
