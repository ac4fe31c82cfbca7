import { jobData, lostResult, outcomeOf, progressOf, resultOf, tryJobId } from '../../src/executor/bullmq/jobs.js';
import type { TaskTrySpec } from '../../src/executor/types.js';

const spec: TaskTrySpec = {
  dagId: 'd',
  runId: 'manual__2026-01-01T00:00:00+00:00',
  taskId: 't',
  tryNumber: 2,
  taskType: 'BashOperator',
  bashCommand: 'echo hi',
  opArgs: [],
  opKwargs: {},
  env: {},
  executionTimeout: null,
  queue: 'heavy',
  sourceHash: 'abc',
  logFile: '/scheduler/logs/attempt=2.log',
};

describe('BullMQ task-try jobs', () => {
  test('the job id names the task instance and try, and is a valid BullMQ custom id', () => {
    const id = tryJobId(spec);
    expect(id).toBe(tryJobId({ ...spec }));
    expect(id).not.toBe(tryJobId({ ...spec, tryNumber: 3 }));
    expect(id).not.toBe(tryJobId({ ...spec, runId: 'other' }));
    expect(id).not.toBe(tryJobId({ ...spec, taskId: 'u' }));
    // Each instance of a mapped task is a task instance of its own; unmapped ids are unchanged.
    expect(tryJobId({ ...spec, mapIndex: 0 })).not.toBe(tryJobId({ ...spec, mapIndex: 1 }));
    expect(tryJobId({ ...spec, mapIndex: 0 })).not.toBe(id);
    expect(tryJobId({ ...spec, mapIndex: -1 })).toBe(id);
    // BullMQ refuses ':' and integer ids; run ids hold ':'.
    expect(id).not.toContain(':');
    expect(Number.isInteger(Number(id))).toBe(false);
    expect(id.endsWith('-try-2')).toBe(true);
  });

  test("the scheduler's log path is not sent; queue and source hash are", () => {
    const data = jobData(spec);
    expect('logFile' in data.spec).toBe(false);
    expect(data.spec.queue).toBe('heavy');
    expect(data.spec.sourceHash).toBe('abc');
  });

  test('an outcome survives the round trip through JSON with its host, dates and log', () => {
    const startedAt = new Date('2026-01-01T00:00:00Z');
    const endedAt = new Date('2026-01-01T00:00:02Z');
    const sent = outcomeOf(
      { ok: true, returnValue: { n: 1 }, exitCode: 0, signal: null, timedOut: false, pid: 42, startedAt, endedAt },
      'w1',
      'log text\n',
    );
    const { result, log } = resultOf(JSON.stringify(sent), new Date());
    expect(result).toEqual({
      ok: true,
      returnValue: { n: 1 },
      exitCode: 0,
      signal: null,
      timedOut: false,
      pid: 42,
      hostname: 'w1',
      startedAt,
      endedAt,
    });
    expect(log).toBe('log text\n');
  });

  test('a malformed outcome is a failed try, not a crash', () => {
    for (const raw of ['not json', null, 7, { ok: 'yes' }]) {
      const { result } = resultOf(raw, new Date());
      expect(result.ok).toBe(false);
      expect(result.error).toBe('the worker returned a malformed outcome');
    }
  });

  test('a lost try fails with the reason; progress needs a pid and a host', () => {
    expect(lostResult(new Date(), 'gone', 'w2')).toMatchObject({ ok: false, error: 'gone', hostname: 'w2' });
    expect(progressOf({ pid: 5, hostname: 'w1' })).toEqual({ pid: 5, hostname: 'w1' });
    expect(progressOf(50)).toBeNull();
    expect(progressOf({ pid: '5', hostname: 'w1' })).toBeNull();
  });

  test('a huge log is cut before it travels through Redis', () => {
    const big = 'x'.repeat(9 * 1024 * 1024);
    const sent = outcomeOf(
      { ok: true, exitCode: 0, signal: null, timedOut: false, startedAt: new Date(), endedAt: new Date() },
      'w',
      big,
    );
    expect(sent.log.length).toBeLessThan(big.length);
    expect(sent.log).toContain('log truncated');
  });
});
