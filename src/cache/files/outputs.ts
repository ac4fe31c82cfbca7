import type { FileHashMode, Json } from '../../dag/model.js';
import { fingerprint, type FileHashMemo, type HashCounters } from './file-hash.js';
import { displayPath, matchPatterns } from './file-sets.js';
import type { OutputRecord } from '../types.js';

export type { OutputRecord };

/** Component name prefix of an input file (`cache.input_files`). */
export const FILE_COMPONENT_PREFIX = 'file.';
/** A glob that matches nothing is a component too, so a file appearing later misses. */
export const NO_MATCH = 'no file matches';
export const MISSING = 'missing';

/**
 * The outputs after a successful run, each file hashed; or the first pattern that matched no file
 * (the task did not leave what it declared, so its result is not stored).
 */
export async function recordOutputs(
  patterns: string[],
  memo: FileHashMemo | null,
  bundlePath: string,
): Promise<{ records: OutputRecord[] } | { missing: string }> {
  const records: OutputRecord[] = [];
  for (const m of await matchPatterns(patterns)) {
    let found = 0;
    for (const path of m.files) {
      const hash = await fingerprint(path, 'content', memo);
      if (hash === null) continue;
      records.push({ path, hash });
      found++;
    }
    if (found === 0) return { missing: displayPath(m.pattern, bundlePath) };
  }
  return { records };
}

/** Why an entry's recorded outputs no longer serve a hit ("output X missing" / "changed"), or null. */
export async function checkOutputs(
  records: OutputRecord[],
  memo: FileHashMemo | null,
  bundlePath: string,
): Promise<string | null> {
  for (const r of records) {
    const now = await fingerprint(r.path, 'content', memo);
    const name = displayPath(r.path, bundlePath);
    if (now === null) return `output ${name} missing`;
    if (now !== r.hash) return `output ${name} changed`;
  }
  return null;
}

/**
 * One key component value per input file: `file.<path>` -> its fingerprint; a pattern matching
 * nothing (or a plain path that does not exist) is `file.<pattern>` -> "no file matches" / "missing".
 */
export async function inputFileComponents(
  patterns: string[],
  mode: FileHashMode,
  memo: FileHashMemo | null,
  bundlePath: string,
  counters?: HashCounters,
): Promise<Record<string, Json>> {
  const out: Record<string, Json> = {};
  for (const m of await matchPatterns(patterns)) {
    const dynamic = m.files.length !== 1 || m.files[0] !== m.pattern;
    let found = 0;
    for (const path of m.files) {
      const hash = await fingerprint(path, mode, memo, counters);
      if (hash === null) continue;
      out[displayPath(path, bundlePath)] = hash;
      found++;
    }
    if (found === 0) out[displayPath(m.pattern, bundlePath)] = dynamic ? NO_MATCH : MISSING;
  }
  return out;
}

/** A recorded outputs list read back from a backend; null when absent or malformed. */
export function parseOutputs(v: unknown): OutputRecord[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const ok = v.every(
    (r) =>
      typeof r === 'object' &&
      r !== null &&
      typeof (r as OutputRecord).path === 'string' &&
      typeof (r as OutputRecord).hash === 'string',
  );
  return ok ? (v as OutputRecord[]).map((r) => ({ path: r.path, hash: r.hash })) : undefined;
}
