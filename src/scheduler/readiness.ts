import type { Task } from '../dag/model.js';
import type { RunTracker } from './run-tracker.js';
import { countUpstream, evaluateTriggerRule, type Readiness } from './trigger-rules.js';

/** What a task instance whose state is none does next (its trigger rule's answer, other than wait). */
export interface Verdict {
  readiness: Exclude<Readiness, 'wait'>;
  /**
   * Set when the answer rests on upstream hits whose write is still in flight
   * (RunTracker.upstreamWritten): the attempt may key and look up meanwhile, and writes nothing
   * before this resolves true.
   */
  upstreamWritten: Promise<boolean> | null;
}

/**
 * The trigger rule's answer for a task's instance; null: wait. Every instance of a mapped upstream
 * counts (a downstream all_success waits for all of them). Only a run is started on hits not yet
 * committed; skipping or failing because of them waits for their commit.
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
  const written = tracker.upstreamWritten(task);
  if (!written || evaluateTriggerRule(rule, countUpstream(upstream.map((ti) => ti.state))) === readiness)
    return { readiness, upstreamWritten: null };
  return readiness === 'run' ? { readiness, upstreamWritten: written } : null;
}

/**
 * The downstream tasks of hits whose write was just issued, evaluated together two turns later:
 * the hit writer gathers a turn's hits into one statement in the next turn, and the SQLite write
 * queue takes it in the turn after. Keying the next layer then runs on this thread while that
 * write runs on SQLite's, instead of holding the write back until the keying is done.
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
