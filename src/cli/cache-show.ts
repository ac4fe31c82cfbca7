import { SHORT_KEY, type EntryDetail } from '../cache/admin.js';
import { fitLine, printTable } from './output.js';
import { terminalWidth } from './table-fit.js';

const dash = (v: string | null | undefined) => v ?? '';

/** Below this no value is cut in any terminal: the "--full" hint would be noise. */
const VALUE_HINT_CHARS = 40;

/** A line cut to the terminal width, saying how to see it whole when it was cut. */
function cutWithHint(line: string, full: boolean): string {
  if (full || line.length <= terminalWidth()) return line;
  const hint = ` (${line.length} chars, --full shows all)`;
  return fitLine(line, false, Math.max(20, terminalWidth() - hint.length)) + hint;
}

/** `cache show` as text: the entry, its producer, its value and key components, fitted unless `full`. */
export function printEntryDetail(d: EntryDetail, full: boolean): void {
  const e = d.entry;
  const lines = [
    `key:        ${e.key}`,
    `task:       ${e.dag_id}.${e.task_id}${e.team_name ? ` (team ${e.team_name})` : ''}`,
    `created:    ${e.created_at}`,
    `expires:    ${e.expires_at ?? 'never'}${e.expired ? ' (expired)' : ''}`,
    `size:       ${e.size_bytes} bytes; ${e.hits} hit(s)${e.last_hit_at ? `, last at ${e.last_hit_at}` : ''}`,
    `produced:   run ${e.source_run_id}, try ${e.source_try_number}, took ${e.duration.toFixed(3)}s`,
  ];
  for (const o of e.outputs) lines.push(`output:     ${o.path} (${o.hash.slice(0, 7 + SHORT_KEY)})`);
  if (e.accepted) lines.push(`accepted:   by ${e.accepted.by} at ${e.accepted.at} (was key ${e.accepted.from_key})`);
  const ti = d.task_instance;
  lines.push(
    ti
      ? `task instance: state ${ti.state}, try ${ti.current_try_number}, duration ${ti.duration ?? '-'}s, ${dash(ti.start_date)} .. ${dash(ti.end_date)}`
      : 'task instance: (its run no longer exists)',
  );
  const value = typeof d.value === 'string' && d.value_truncated ? d.value : JSON.stringify(d.value);
  // The key stays whole (it is copied into other commands); the rest fits the terminal.
  const fitted = lines.map((l, i) => (i === 0 ? l : fitLine(l, full)));
  fitted.push(cutWithHint(`value:      ${value}`, full), 'components:');
  process.stdout.write(fitted.join('\n') + '\n');
  printTable(
    ['component', 'hash', 'value'],
    d.components.map((c) => [c.name, c.hash.slice(0, SHORT_KEY), JSON.stringify(c.value)]),
    { noun: 'key components', full, keep: ['component', 'hash'] },
  );
  if (!full && d.components.some((c) => JSON.stringify(c.value).length > VALUE_HINT_CHARS))
    process.stdout.write('(values cut to the terminal width: --full prints them whole)\n');
}
