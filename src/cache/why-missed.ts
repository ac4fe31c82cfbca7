import type { Json } from '../dag/model.js';
import { preview } from './admin.js';
import { diffComponents, type ComponentDiff } from './key.js';
import type { CacheEntry, CacheKey } from './types.js';

/**
 * The words for a miss: how a key differs from an existing entry, one phrase per component. Shared
 * by the scheduler (recorded at decision time) and `cache explain`, so both say the same thing.
 */

export const VALUE_CHARS = 80;
const show = (v: Json | undefined, max: number): string => preview(v, max).text;
const teamWords = (t: Json | undefined): string =>
  t === null || t === undefined ? '(no team)' : typeof t === 'string' ? t : JSON.stringify(t);

export const NO_EARLIER_ENTRY = 'no earlier entry';
export const SOURCE_CHANGED = "the task's source changed (callable module or command edited)";
/** Components naming one file of the task's code (the callable's module and what it imports). */
export const SOURCE_FILE_PREFIX = 'source_file.';
/** Components naming one input file (`cache.input_files`). */
export const INPUT_FILE_PREFIX = 'file.';

/** One key component difference in words; `before` is the stored entry's, `after` the computed key's. */
export function describeDifference(d: ComponentDiff, max = VALUE_CHARS): string {
  const has = (side: 'before' | 'after') => Object.prototype.hasOwnProperty.call(d, side);
  if (d.name === 'team_name')
    return `the entry belongs to team ${teamWords(d.before)}, this DAG is in team ${teamWords(d.after)}`;
  if (d.name === 'source') return SOURCE_CHANGED;
  if (d.name === 'version') return `the cache version was bumped from ${show(d.before, max)} to ${show(d.after, max)}`;
  if (d.name.startsWith(SOURCE_FILE_PREFIX)) {
    const file = d.name.slice(SOURCE_FILE_PREFIX.length);
    if (!has('before')) return `source file ${file} is new in the task's code`;
    if (!has('after')) return `source file ${file} is no longer part of the task's code`;
    return `source file ${file} changed`;
  }
  if (d.name.startsWith(INPUT_FILE_PREFIX)) return describeFile(d.name.slice(INPUT_FILE_PREFIX.length), d);
  const input = d.name.startsWith('input.');
  const label = input
    ? `input ${d.name.slice('input.'.length)}`
    : d.name.startsWith('include.')
      ? d.name.slice('include.'.length)
      : d.name.startsWith('var.')
        ? `variable ${d.name.slice('var.'.length)}`
        : d.name;
  if (!has('before')) return `${label} is new in the key (now ${show(d.after, max)}; the entry has no such component)`;
  if (!has('after')) return `${label} is no longer in the key (the entry has ${show(d.before, max)})`;
  return `${label} changed from ${show(d.before, max)} to ${show(d.after, max)}`;
}

/** An input file (`cache.input_files`) in words: which file appeared, went or changed. */
function describeFile(path: string, d: ComponentDiff): string {
  const gone = (v: Json | undefined) => v === undefined || v === 'missing' || v === 'no file matches';
  if (gone(d.before) && !gone(d.after)) return `input file ${path} appeared`;
  if (!gone(d.before) && gone(d.after)) return `input file ${path} is gone`;
  if (d.before === undefined) return `input file pattern ${path} matches no file`;
  if (d.after === undefined) return `input file pattern ${path} now matches files`;
  return `input file ${path} changed`;
}

/**
 * All differences in words. When a named source file changed, the generic "source changed" phrase
 * is folded into it: the file is the news.
 */
export function describeDifferences(diffs: ComponentDiff[], max = VALUE_CHARS): string[] {
  const namesFile = diffs.some((d) => d.name.startsWith(SOURCE_FILE_PREFIX));
  return diffs.filter((d) => !(namesFile && d.name === 'source')).map((d) => describeDifference(d, max));
}

/**
 * Why `key` missed, against the latest entry of the same team, DAG and task (null: there is none).
 * Null when the entry has this very key (its own lookup said why: expired, too large).
 */
export function whyMissed(latest: CacheEntry | null, key: CacheKey): string | null {
  if (!latest) return NO_EARLIER_ENTRY;
  if (latest.key === key.key) return null;
  const reasons = describeDifferences(diffComponents(latest.components, key.components));
  return reasons.length ? reasons.join('; ') : null;
}
