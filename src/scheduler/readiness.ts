import type { Task } from '../dag/model.js';
import type { RunTracker } from './run-tracker.js';
import { countUpstream, evaluateTriggerRule, type Readiness } from './trigger-rules.js';

/** What a task instance whose state is none does next (its trigger rule's answer, other than wait). */
export interface Verdict {
  readiness: Exclude<Readiness, 'wait'>;
  /**
   * Set when a run rests on hits whose write is still in flight (RunTracker.pendingWon): the
   * attempt may render, key and look up meanwhile, and claims or writes nothing before this
   * resolves true.
   */
  pendingWon: Promise<boolean> | null;
}

/**
 * The trigger rule's answer for a task's instance; null: wait. Every instance of a mapped upstream
 * counts (a downstream all_success waits for all of them). A hit whose write is in flight counts as
 * success: a run may start on it, and waits for the write before any write of its own; any other
 * answer it leads to (a skip under all_failed) waits for its commit.
 */
export function readinessOf(tracker: RunTracker, task: Task): Verdict | null {
  const rule = task.triggerRule;
  // The kept counts answer "wait" in O(1); any other answer is checked against the states first.
  if (evaluateTriggerRule(rule, tracker.upstreamCounts(task)) === 'wait') return null;
  const upstream = task.upstreamTaskIds.flatMap((u) => tracker.instances(u));
  const readiness = evaluateTriggerRule(rule, countUpstream(upstream.map((ti) => tracker.stateOf(ti))));
  if (readiness === 'wait') {
    tracker.forgetCounts(); // stale counts: rebuilt on next use
    return null;
  }
  const pendingWon = tracker.pendingWon(task);
  if (!pendingWon || readiness === 'run') return { readiness, pendingWon };
  const committed = evaluateTriggerRule(rule, countUpstream(upstream.map((ti) => ti.state)));
  return committed === readiness ? { readiness, pendingWon: null } : null;
}

/**
 * The downstream tasks of hits whose write was just issued, evaluated together two turns later:
 * the hit writer gathers a turn's hits into one statement in the next turn, and an idle SQLite
 * write queue takes it in the turn after. Keying the next layer then runs on this thread while that
 * write runs on SQLite's, instead of holding the write back until the keying is done (a busy queue
 * or PostgreSQL's pool only makes the write later, never the downstream's own write earlier).
 */
export class DownstreamOfHits {
  private due = new Map<RunTracker, Set<string>>();
  private scheduled = false;

  constructor(private readonly evaluate: (tracker: RunTracker, taskId: string) => void) {}

  /** The downstream of a task whose hit's write was issued. */
  add(tracker: RunTracker, taskId: string): void {
    let tasks = this.due.get(tracker);
    if (!tasks) this.due.set(tracker, (tasks = new Set()));
    tasks.add(taskId);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => setImmediate(() => this.flush()));
  }

  private flush(): void {
    const due = this.due;
    this.due = new Map();
    this.scheduled = false;
    for (const [tracker, tasks] of due) {
      const downstream = new Set<string>();
      for (const id of tasks) for (const d of tracker.dag.tasks.get(id)!.downstreamTaskIds) downstream.add(d);
      for (const d of downstream) this.evaluate(tracker, d);
    }
  }
}
