import type { CacheDecider, CheckOutcome } from '../cache/decision.js';
import type { SingleFlight } from '../cache/single-flight.js';
import type { Settings } from '../config/settings.js';
import type { Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { LocalExecutor } from '../executor/local-executor.js';
import type { CacheHitWriter } from '../models/cache-hit-write.js';
import type { TaskInstanceStore, TiRef } from '../models/task-instance.js';
import type { ResolvedInputs, TemplateContext } from '../templating/index.js';
import type { Clock } from '../util/clock.js';
import type { SchedulerEvents } from './events.js';
import type { RunTracker } from './run-tracker.js';
import type { TaskInputResolver } from '../templating/index.js';

/** What the path of one task attempt uses of the scheduler: wired once, by the Scheduler. */
export interface AttemptDeps {
  db: MetadataDb;
  settings: Settings;
  clock: Clock;
  decider: CacheDecider;
  executor: LocalExecutor;
  schedulerId: string;
  host: string;
  tis: TaskInstanceStore;
  hits: CacheHitWriter;
  singleFlight: SingleFlight;
  /** Renders task templates (sandboxed, bounded) with the variables a DAG may read. */
  inputResolver: TaskInputResolver;
  events: SchedulerEvents;
  log: (line: string) => void;
  /** A progress line about one run's task: prefixed `[dag_id run_id]` when the scheduler serves several runs. */
  runLog: (tracker: RunTracker, line: string) => void;
  /** A side write the loop waits for before it exits (a log file, a hit count); failures are logged. */
  track: (p: Promise<unknown>) => void;
  /** True once the loop is about to exit. */
  stopping: () => boolean;
  /** The task instance (by tiKey) went up_for_retry: evaluate it again when its retry is due. */
  retryLater: (tracker: RunTracker, key: string) => void;
  /**
   * A hit's write was issued (`won` says whether it won, once committed): its downstream may be
   * keyed and looked up before the commit (RunTracker.notePendingHit).
   */
  hitIssued: (tracker: RunTracker, ti: TiRef, value: Json | undefined, won: Promise<boolean>) => void;
}

/**
 * What an attempt started on hits not yet committed returns when one of those writes did not win:
 * it wrote nothing, and its task instance is evaluated again.
 */
export const ABANDONED = Symbol('abandoned');

/** One task attempt as it travels the pipeline (attempt-pipeline.ts): found ready, then checked. */
export interface Attempt {
  readonly tracker: RunTracker;
  readonly ti: TiRef;
  readonly task: Task;
  /** When it was found ready: the start of a hit's (process-less) try. */
  readonly start: Date;
  /** Its state before this attempt, for the run's count of unfinished task instances. */
  readonly before: string | null;
  /** Whether the hits in flight it rests on won their writes (RunTracker.pendingWon); null: none. */
  readonly pendingWon?: Promise<boolean> | null;
}

/** An attempt whose inputs resolved and whose cache check answered. */
export interface CheckedAttempt extends Attempt {
  readonly inputs: ResolvedInputs;
  readonly ctx: TemplateContext;
  readonly check: CheckOutcome;
}

/** Records the attempt's transition in its run's view (the run finishes when nothing is left). */
export function settle(a: Pick<Attempt, 'tracker' | 'before'>, after: string | null): void {
  a.tracker.noteTransition(a.before, after);
}
