import type { Redis } from 'ioredis';

/** Small Redis helpers of the cache backend: wrong-type replies, SCAN patterns, abortable waits. */

/** SCAN MATCH treats `* ? [ ] \` specially; team names are matched literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** A key of the wrong Redis type (e.g. written by something else) is corrupt data, not a failure. */
export function isWrongType(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('WRONGTYPE');
}

/** The reply, or `undefined` when the key holds the wrong type. */
export async function orWrongType<T>(reply: Promise<T>): Promise<T | undefined> {
  try {
    return await reply;
  } catch (err) {
    if (isWrongType(err)) return undefined;
    throw err;
  }
}

/** Rejects when `signal` aborts; the underlying promise keeps running (its result is then ignored). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Every key matching `pattern`, by SCAN (never KEYS). */
export async function scanAll(client: Redis, pattern: string, count: number): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', count);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/**
 * Counts a hit only on an entry hash that still exists, so a hit racing an expiry never leaves a
 * fragment behind; pcall because a corrupt `hits` field is for `get` to drop, not an error here.
 */
export const RECORD_HIT = `if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  redis.pcall('HINCRBY', KEYS[1], 'hits', 1)
  redis.call('HSET', KEYS[1], 'last_hit_at', ARGV[1])
end
return 0`;
