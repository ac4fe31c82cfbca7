import { createRequire } from 'node:module';
import type * as Levenshtein from 'fastest-levenshtein';

/** fastest-levenshtein, required (CommonJS: no scan of its source at start-up) on the first hint. */
let levenshtein: typeof Levenshtein | undefined;

/**
 * The candidate nearest to `name` by edit distance, when it is near enough to be a typo: at most
 * 2 edits, and at most a third of the name's length (so `foo` suggests nothing for `bar`). Used
 * for "did you mean" hints on config keys, DAG ids and task ids.
 */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  const { distance } = (levenshtein ??= createRequire(import.meta.url)('fastest-levenshtein') as typeof Levenshtein);
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= limit ? best : undefined;
}
