import { pickEvictions, type EvictionCandidate } from '../../src/cache/eviction.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
function c(key: string, o: Partial<EvictionCandidate> & { created?: number; hit?: number } = {}): EvictionCandidate {
  return {
    key,
    teamName: o.teamName ?? null,
    dagId: o.dagId ?? 'd',
    taskId: o.taskId ?? 't',
    sizeBytes: o.sizeBytes ?? 100,
    createdAt: new Date(T0 + (o.created ?? 0)),
    lastHitAt: o.hit === undefined ? null : new Date(T0 + o.hit),
    sourceRunId: 'r',
    sourceTryNumber: 1,
  };
}
const none = { maxTotalBytes: 0, maxTeamBytes: 0, maxTaskEntries: 0 };
const keys = (es: { key: string }[]) => es.map((e) => e.key);

describe('pickEvictions', () => {
  test('no limit evicts nothing', () => {
    expect(pickEvictions([c('a'), c('b')], c('new', { created: 10 }), none)).toEqual([]);
  });

  test('total bytes: least recently hit first (never hit counts from creation), never the stored entry', () => {
    const old = c('old', { created: 0, hit: 5000 });
    const cold = c('cold', { created: 1000 });
    const warm = c('warm', { created: 2000, hit: 9000 });
    const stored = c('new', { created: 10_000 });
    const q = { ...none, maxTotalBytes: 250 };
    const evicted = pickEvictions([old, cold, warm, stored], stored, q);
    expect(keys(evicted)).toEqual(['cold', 'old']);
    expect(evicted[0].cause).toBe('[core] max_cache_total_bytes = 250');
  });

  test('ties on recency go by creation', () => {
    const a = c('a', { created: 0, hit: 100 });
    const b = c('b', { created: 100 });
    expect(keys(pickEvictions([b, a], c('n', { created: 200 }), { ...none, maxTotalBytes: 200 }))).toEqual(['a']);
  });

  test('max_entries counts only the same team, DAG and task', () => {
    const mine1 = c('m1', { created: 0 });
    const mine2 = c('m2', { created: 1 });
    const other = c('o', { created: -5, taskId: 'other' });
    const evicted = pickEvictions([mine1, mine2, other], c('n', { created: 2 }), { ...none, maxTaskEntries: 2 });
    expect(keys(evicted)).toEqual(['m1']);
    expect(evicted[0].cause).toBe('cache.max_entries = 2');
  });

  test('team bytes only weigh the stored entry’s team', () => {
    const red = c('red', { teamName: 'red', created: 0 });
    const blue = c('blue', { teamName: 'blue', created: -10 });
    const stored = c('n', { teamName: 'red', created: 5 });
    const evicted = pickEvictions([red, blue], stored, { ...none, maxTeamBytes: 150 });
    expect(keys(evicted)).toEqual(['red']);
    expect(evicted[0].cause).toMatch(/max_cache_team_bytes = 150 \(team red\)/);
  });
});
