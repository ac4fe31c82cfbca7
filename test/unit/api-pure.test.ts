// Issue 16: the API's pure pieces — the hits/misses timeline buckets, the error-to-status mapping and
// the token check.
import type { FastifyRequest } from 'fastify';
import { TokenAuth } from '../../src/api/auth.js';
import { cacheTimeline } from '../../src/api/cache-timeline.js';
import { ApiError, problem, statusOf } from '../../src/api/problem.js';
import { NotFoundError, UsageError } from '../../src/errors.js';

const req = (ip: string, authorization?: string) => ({ ip, headers: { authorization } }) as unknown as FastifyRequest;

describe('cacheTimeline', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');

  test('no decisions: no buckets', () => {
    expect(cacheTimeline([], new Date(t0))).toEqual({ bucket_seconds: 0, buckets: [] });
  });

  test('counts every hit and miss once, in order, within at most 24 buckets from the first to now', () => {
    const events = [
      { decision: 'miss', created_at: t0 },
      { decision: 'hit', created_at: t0 + 3_600_000 },
      { decision: 'hit', created_at: t0 + 86_400_000 },
    ];
    const { bucket_seconds, buckets } = cacheTimeline(events, new Date(t0 + 86_400_000));
    expect(buckets.length).toBeLessThanOrEqual(24);
    expect(bucket_seconds).toBe(3600);
    expect(buckets[0]).toEqual({ start: '2026-01-01T00:00:00.000Z', hits: 0, misses: 1 });
    expect(buckets[1].hits).toBe(1);
    expect(buckets.at(-1)!.hits).toBe(1);
    expect(buckets.reduce((n, b) => n + b.hits + b.misses, 0)).toBe(3);
  });

  test('200,000 decisions: no spread of one argument per event, each counted once', () => {
    const events = Array.from({ length: 200_000 }, (_, i) => ({
      decision: i % 2 ? 'hit' : 'miss',
      created_at: t0 + i,
    }));
    const { buckets } = cacheTimeline(events, new Date(t0 + 200_000));
    expect(buckets.reduce((n, b) => n + b.hits, 0)).toBe(100_000);
    expect(buckets[0].start).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('problem JSON statuses', () => {
  test('typed errors keep their meaning over HTTP', () => {
    expect(statusOf(new NotFoundError('x'))).toBe(404);
    expect(statusOf(new UsageError('x'))).toBe(400);
    expect(statusOf(new ApiError(409, 'x'))).toBe(409);
    expect(statusOf(Object.assign(new Error('x'), { validation: [] }))).toBe(400);
    expect(statusOf(Object.assign(new Error('x'), { statusCode: 415 }))).toBe(415);
    expect(statusOf(new Error('bug'))).toBe(500);
    expect(problem(404, 'gone')).toMatchObject({ title: 'Not Found', status: 404, detail: 'gone' });
  });
});

describe('TokenAuth', () => {
  test('no token configured: every write is refused, reads only from this machine', () => {
    const auth = new TokenAuth('');
    expect(() => auth.checkWrite(req('127.0.0.1', 'Bearer '))).toThrow(/no API token is configured/);
    expect(() => auth.checkRead(req('127.0.0.1'))).not.toThrow();
    expect(() => auth.checkRead(req('::1'))).not.toThrow();
    expect(() => auth.checkRead(req('10.0.0.5'))).toThrow(/open to 127.0.0.1 only/);
  });

  test('with a token: writes need exactly it; remote reads are allowed with it', () => {
    const auth = new TokenAuth('abc');
    expect(() => auth.checkWrite(req('127.0.0.1'))).toThrow(ApiError);
    expect(() => auth.checkWrite(req('127.0.0.1', 'Bearer abcd'))).toThrow(/does not match/);
    expect(() => auth.checkWrite(req('127.0.0.1', 'Basic abc'))).toThrow(/does not match/);
    expect(() => auth.checkWrite(req('127.0.0.1', 'Bearer abc'))).not.toThrow();
    expect(() => auth.checkRead(req('10.0.0.5', 'Bearer abc'))).not.toThrow();
    expect(() => auth.checkRead(req('10.0.0.5', 'Bearer nope'))).toThrow(ApiError);
  });
});
