/**
 * The line structure of airflow.cfg, checked as Python's configparser reads it: `[section]`
 * headers, `key = value` (or `key: value`) lines, `#`/`;` comment lines, and indented lines that
 * continue the previous value. Anything else is an error naming the file and line, rather than a
 * line silently ignored (a `[core` header used to drop every key under it).
 */
import { createRequire } from 'node:module';
import type * as Ini from 'ini';
import { ConfigFileError } from '../errors.js';

let ini: typeof Ini | undefined;
/** ini, required (CommonJS: no scan of its source at start-up) on the first file read: most homes have no airflow.cfg. */
const unquote = (text: string): string => (ini ??= createRequire(import.meta.url)('ini') as typeof Ini).unsafe(text);

export interface CfgEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

const HEADER = /^\[([^\][]+)\]\s*(?:[#;].*)?$/;
const KEY_VALUE = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/;

function quote(text: string): string {
  return text.length > 60 ? `'${text.slice(0, 60)}…'` : `'${text}'`;
}

/** Every key of the file in order (sections and keys lower-cased, as Airflow compares them). */
export function parseCfgText(content: string, file: string): CfgEntry[] {
  const entries: CfgEntry[] = [];
  let section: string | null = null;
  let last: CfgEntry | null = null;
  content.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (/^\s/.test(raw) && last) {
      // configparser's continuation line: part of the previous value.
      last.value = `${last.value}\n${unquote(trimmed)}`;
      return;
    }
    if (trimmed.startsWith('[')) {
      const header = HEADER.exec(trimmed);
      if (!header)
        throw new ConfigFileError(file, lineNo, `malformed section header ${quote(trimmed)}: write [section]`);
      section = header[1].trim().toLowerCase();
      last = null;
      return;
    }
    const kv = KEY_VALUE.exec(trimmed);
    if (!kv) {
      throw new ConfigFileError(
        file,
        lineNo,
        `malformed line ${quote(trimmed)}: expected 'key = value' under a [section]`,
      );
    }
    if (section === null) {
      throw new ConfigFileError(
        file,
        lineNo,
        `${quote(trimmed)} is outside any section: put it under a [section] header`,
      );
    }
    last = { section, key: kv[1].trim().toLowerCase(), value: unquote(kv[2]), line: lineNo };
    entries.push(last);
  });
  return entries;
}
