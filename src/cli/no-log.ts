import type { TaskInstanceRow } from '../db/rows.js';
import { operatorOf } from '../operators/index.js';

/**
 * Why a task instance has no log file when that is expected rather than a fault: the scheduler
 * settled it without starting a process. Null when a log should exist (then its absence is an error).
 */
export function noLogExplanation(ti: TaskInstanceRow, tryNumber: number): string | null {
  const name = `task '${ti.task_id}'`;
  if (tryNumber !== ti.try_number && !(ti.try_number === 0 && tryNumber <= 1)) return null;
  if (ti.state === 'upstream_failed')
    return `${name} is upstream_failed: an upstream task failed, so the scheduler never started it and there is no log`;
  if (ti.state === 'skipped')
    return `${name} was skipped: its trigger rule ruled it out (an upstream task was skipped or did not end as the rule needs), so it never started and there is no log`;
  if (ti.state === 'success' && !operatorOf(ti.operator).needsProcess)
    return `${name} is an ${ti.operator}: the scheduler marked it success without starting a process, so there is no log`;
  return null;
}
