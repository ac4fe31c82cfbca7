import { createRequire } from 'node:module';
import type { CronExpressionParser } from 'cron-parser';

let parser: typeof CronExpressionParser | undefined;

/**
 * cron-parser, loaded on the first cron schedule rather than at start-up: it is CommonJS with a
 * CommonJS copy of luxon, the largest single import of a `dags list` of unscheduled DAGs.
 */
export function cronParser(): typeof CronExpressionParser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
  return parser;
}
