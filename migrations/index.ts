import { CoreTables1700000000001 } from './1700000000001-core-tables.js';
import { TaskCache1700000000002 } from './1700000000002-task-cache.js';
import { SchedulerJobsAndLeases1700000000003 } from './1700000000003-scheduler-jobs-and-leases.js';
import { SqliteCacheHitWrite1700000000004 } from './1700000000004-sqlite-cache-hit-write.js';
import { SqliteCacheHitTriggerFromGuard1700000000005 } from './1700000000005-sqlite-cache-hit-trigger-from-guard.js';
import { Variables1700000000006 } from './1700000000006-variables.js';
import { DagIsPaused1700000000008 } from './1700000000008-dag-is-paused.js';
import { MapIndex1700000000009 } from './1700000000009-map-index.js';
import { DagRunSchedule1700000000010 } from './1700000000010-dag-run-schedule.js';
import { CacheOutputsAndFileMemo1700000000011 } from './1700000000011-cache-outputs-and-file-memo.js';
import { DagFile1700000000012 } from './1700000000012-dag-file.js';
import { CacheHitCounts1700000000013 } from './1700000000013-cache-hit-counts.js';
import { CacheEventIndexes1700000000014 } from './1700000000014-cache-event-indexes.js';

/** Every migration in order; the data source runs these and never synchronizes. */
export const migrations = [
  CoreTables1700000000001,
  TaskCache1700000000002,
  SchedulerJobsAndLeases1700000000003,
  SqliteCacheHitWrite1700000000004,
  SqliteCacheHitTriggerFromGuard1700000000005,
  Variables1700000000006,
  DagIsPaused1700000000008,
  MapIndex1700000000009,
  DagRunSchedule1700000000010,
  CacheOutputsAndFileMemo1700000000011,
  DagFile1700000000012,
  CacheHitCounts1700000000013,
  CacheEventIndexes1700000000014,
];
