import { isAbsolute, relative, resolve } from 'node:path';
import type { Task } from '../../dag/model.js';
import { renderTemplate, type TemplateContext } from '../../templating/index.js';

/**
 * The files named by `cache.outputs` / `cache.input_files`: each entry is a template (rendered with
 * the run's context), then a path or glob relative to the DAG's bundle folder, or absolute.
 */

/** One declared pattern after rendering, and the files it matches now (absolute, sorted). */
export interface MatchedPattern {
  /** Absolute pattern after templating. */
  pattern: string;
  files: string[];
}

/** Renders each declared pattern and makes it absolute (bundle-relative when relative). */
export function renderPatterns(patterns: string[], ctx: TemplateContext, task: Task, bundlePath: string): string[] {
  return patterns.map((p) => {
    const text = renderTemplate(p, ctx, { dagId: ctx.dag.dag_id, taskId: task.taskId });
    return isAbsolute(text) ? resolve(text) : resolve(bundlePath, text);
  });
}

/**
 * Bounds on what a DAG file's globs may make the scheduler do (a DAG file is untrusted input): files
 * per task, folder depth, and time spent walking. Past them the check fails (the task runs uncached).
 */
export const MAX_MATCHED_FILES = 10_000;
const MAX_DEPTH = 32;
const WALK_TIMEOUT_MS = 10_000;

/** The files each absolute pattern matches (a plain path matches itself when it exists as a file). */
export async function matchPatterns(patterns: string[]): Promise<MatchedPattern[]> {
  if (patterns.length === 0) return [];
  // Loaded only for tasks that declare file patterns: every scheduler command imports this module.
  const { glob, isDynamicPattern } = await import('tinyglobby');
  const out: MatchedPattern[] = [];
  let total = 0;
  for (const pattern of patterns) {
    if (!isDynamicPattern(pattern)) {
      out.push({ pattern, files: [pattern] });
      continue;
    }
    const files = await glob(pattern, {
      absolute: true,
      onlyFiles: true,
      dot: true,
      expandDirectories: false,
      followSymbolicLinks: false,
      deep: MAX_DEPTH,
      signal: AbortSignal.timeout(WALK_TIMEOUT_MS),
    });
    total += files.length;
    if (total > MAX_MATCHED_FILES)
      throw new RangeError(`the file patterns match more than ${MAX_MATCHED_FILES} files (at ${pattern})`);
    out.push({ pattern, files: files.map((f) => resolve(f)).sort() });
  }
  return out;
}

/** How a path is named in key components and reasons: bundle-relative when inside it, else absolute. */
export function displayPath(path: string, bundlePath: string): string {
  const rel = relative(bundlePath, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
