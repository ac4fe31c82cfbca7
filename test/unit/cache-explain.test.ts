import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcExpired, parseAgeOrDate, resolveEntry } from '../../src/cache/admin.js';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { buildCacheEntry } from '../../src/cache/entry.js';
import { compareWithEntries, describeDifference } from '../../src/cache/explain.js';
import { computeCacheKey, type CacheKeyParts } from '../../src/cache/key.js';
import type { CacheEntry } from '../../src/cache/types.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { NotFoundError, UsageError } from '../../src/errors.js';

const NOW = new Date('2026-03-01T00:00:00Z');

const parts = (over: Partial<CacheKeyParts> = {}): CacheKeyParts => ({
  teamName: null,
  dagId: 'd',
  taskId: 't',
  sourceHash: 'src1',
  version: '1',
  inputs: { op_args: [], op_kwargs: { date_range: '2026-01', rows: [1, 2] } },
  exclude: [],
  included: { 'dag_run.conf.model': 'a' },
  ...over,
});

function entry(p: CacheKeyParts, opts: { createdAt?: Date; ttl?: number; keyOverride?: string } = {}): CacheEntry {
  const key = computeCacheKey(p);
  const e = buildCacheEntry({
    key,
    teamName: p.teamName,
    dagId: p.dagId,
    taskId: p.taskId,
    value: { ok: true },
    runId: 'r1',
    tryNumber: 1,
    durationSeconds: 2,
    ttlSeconds: opts.ttl ?? 0,
    now: opts.createdAt ?? new Date('2026-02-01T00:00:00Z'),
  });
  return opts.keyOverride ? { ...e, key: opts.keyOverride } : e;
}

describe('describeDifference', () => {
  test('names each kind of component in words', () => {
    expect(describeDifference({ name: 'source', before: 'a', after: 'b' })).toBe(
      "the task's source changed (callable module or command edited)",
    );
    expect(describeDifference({ name: 'version', before: '1', after: '2' })).toBe(
      'the cache version was bumped from "1" to "2"',
    );
    expect(describeDifference({ name: 'team_name', before: 'red', after: null })).toBe(
      'the entry belongs to team red, this DAG is in team (no team)',
    );
    expect(describeDifference({ name: 'input.op_kwargs.date_range', before: 'x', after: 'y' })).toBe(
      'input op_kwargs.date_range changed from "x" to "y"',
    );
    expect(describeDifference({ name: 'include.dag_run.conf.model', before: 'a', after: null })).toBe(
      'dag_run.conf.model changed from "a" to null',
    );
    expect(describeDifference({ name: 'input.env.TOKEN', after: 's' })).toMatch(
      /^input env.TOKEN is new in the key \(now "s"/,
    );
    expect(describeDifference({ name: 'input.cwd', before: '/tmp' })).toBe(
      'input cwd is no longer in the key (the entry has "/tmp")',
    );
  });

  test('cuts long values', () => {
    const long = 'x'.repeat(500);
    const text = describeDifference({ name: 'input.bash_command', before: long, after: 'y' });
    expect(text.length).toBeLessThan(250);
    expect(text).toContain('(502 chars, --full shows all)');
  });
});

describe('compareWithEntries', () => {
  test('picks the entry with the fewest differing components and names each difference', () => {
    const key = computeCacheKey(parts({ inputs: { op_args: [], op_kwargs: { date_range: '2026-02', rows: [1, 2] } } }));
    const near = entry(parts());
    const far = entry(parts({ sourceHash: 'src0', version: '0' }), { createdAt: new Date('2026-02-20T00:00:00Z') });
    const r = compareWithEntries(key, [far, near], NOW);
    expect(r.closest?.key).toBe(near.key);
    expect(r.reasons).toEqual(['input op_kwargs.date_range changed from "2026-01" to "2026-02"']);
  });

  test('among equally close entries the newest wins; expiry is named', () => {
    const key = computeCacheKey(parts({ version: '3' }));
    const old = entry(parts({ version: '1' }), { createdAt: new Date('2026-01-01T00:00:00Z') });
    const newer = entry(parts({ version: '2' }), { createdAt: new Date('2026-02-27T00:00:00Z'), ttl: 60 });
    const r = compareWithEntries(key, [old, newer], NOW);
    expect(r.closest?.key).toBe(newer.key);
    expect(r.reasons).toEqual([
      'the cache version was bumped from "2" to "3"',
      'the entry expired at 2026-02-27T00:01:00.000Z',
    ]);
  });

  test('no entries: no closest', () => {
    expect(compareWithEntries(computeCacheKey(parts()), [], NOW)).toEqual({ closest: null, reasons: [] });
  });
});

describe('parseAgeOrDate', () => {
  test('durations count back from now; dates are UTC unless they carry an offset', () => {
    expect(parseAgeOrDate('7d', NOW, '--older-than').toISOString()).toBe('2026-02-22T00:00:00.000Z');
    expect(parseAgeOrDate('12h', NOW, '--older-than').toISOString()).toBe('2026-02-28T12:00:00.000Z');
    expect(parseAgeOrDate('30m', NOW, '--since').toISOString()).toBe('2026-02-28T23:30:00.000Z');
    expect(parseAgeOrDate('3600s', NOW, '--since').toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(parseAgeOrDate('2026-01-05', NOW, '--since').toISOString()).toBe('2026-01-05T00:00:00.000Z');
    expect(parseAgeOrDate('2026-01-05T10:00:00+02:00', NOW, '--since').toISOString()).toBe('2026-01-05T08:00:00.000Z');
  });

  test('anything else is a usage error naming the option', () => {
    for (const bad of ['7', 'soon', '7 days', '2026-13-45']) {
      expect(() => parseAgeOrDate(bad, NOW, '--older-than')).toThrow(UsageError);
    }
    expect(() => parseAgeOrDate('soon', NOW, '--older-than')).toThrow(/^--older-than 'soon' is neither a duration/);
  });
});

describe('resolveEntry and gcExpired on the metadata DB backend', () => {
  let db: MetadataDb;
  let backend: MetadataDbCacheBackend;
  beforeAll(async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mf-cache-explain-'));
    db = await openMetadataDb(`sqlite:///${tmp}/airflow.db`, tmp);
    backend = new MetadataDbCacheBackend({ dataSource: db });
    await backend.set(entry(parts(), { keyOverride: 'abcdef01'.padEnd(64, '0') }));
    await backend.set(entry(parts(), { keyOverride: 'abcdef02'.padEnd(64, '0'), ttl: 60 }));
    await backend.set(entry(parts(), { keyOverride: '12345678'.padEnd(64, '0'), ttl: 3600 }));
  });
  afterAll(() => db.close());

  test('a full key or a unique prefix of 6+ characters names one entry', async () => {
    expect((await resolveEntry(backend, 'abcdef01')).key).toBe('abcdef01'.padEnd(64, '0'));
    expect((await resolveEntry(backend, '123456')).key).toBe('12345678'.padEnd(64, '0'));
    expect((await resolveEntry(backend, 'ABCDEF02'.padEnd(64, '0'))).key).toBe('abcdef02'.padEnd(64, '0'));
  });

  test('ambiguous, short and unknown prefixes are clear errors', async () => {
    await expect(resolveEntry(backend, 'abcdef')).rejects.toThrow(
      /^cache key prefix 'abcdef' is ambiguous: it matches 2 entries/,
    );
    await expect(resolveEntry(backend, 'abcde')).rejects.toThrow(UsageError);
    await expect(resolveEntry(backend, 'ffffff')).rejects.toThrow(NotFoundError);
  });

  test('gc removes entries whose TTL has passed at the given time, and only those', async () => {
    // All created 2026-02-01T00:00: the 60 s entry expires at 00:01, the 1 h one at 01:00; the third never does.
    expect(await gcExpired(backend, new Date('2026-02-01T00:00:30Z'))).toBe(0);
    expect(await gcExpired(backend, new Date('2026-02-01T00:01:00Z'))).toBe(1); // expiring exactly now counts
    expect(await gcExpired(backend, NOW)).toBe(1);
    expect((await backend.list({})).map((e) => e.key)).toEqual(['abcdef01'.padEnd(64, '0')]);
  });
});
