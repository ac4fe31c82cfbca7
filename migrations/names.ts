/**
 * The names TypeORM records in the `migrations` table, oldest first. Opening the DB compares these
 * with the table (one query) without loading the migration modules; test/unit/migration-names.test.ts
 * checks this list against the classes in index.ts, so a new migration cannot be left out.
 */
export const MIGRATION_NAMES = [
  'CoreTables1700000000001',
  'TaskCache1700000000002',
  'SchedulerJobsAndLeases1700000000003',
  'SqliteCacheHitWrite1700000000004',
  'SqliteCacheHitTriggerFromGuard1700000000005',
  'Variables1700000000006',
  'DagIsPaused1700000000008',
  'MapIndex1700000000009',
  'DagRunSchedule1700000000010',
  'CacheOutputsAndFileMemo1700000000011',
  'DagFile1700000000012',
  'CacheHitCounts1700000000013',
  'CacheEventIndexes1700000000014',
];
