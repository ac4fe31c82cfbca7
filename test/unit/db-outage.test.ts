// Issue 14 point 4, the policy alone: which errors mean "the metadata DB cannot be written or
// reached", and how an operation waits one out: retried (never spun), one line when the DB goes and
// one when it is back, or DbUnavailableError (exit code 3) past the timeout, for every later call too.
import { DbOutage, dbUnavailableKind } from '../../src/db/outage.js';
import { DbUnavailableError } from '../../src/errors.js';

const err = (code: string, message = code) => Object.assign(new Error(message), { code });

test.each([
  [err('SQLITE_FULL', 'SQLITE_FULL: database or disk is full'), 'not writable'],
  [err('SQLITE_READONLY'), 'not writable'],
  [err('SQLITE_IOERR'), 'not writable'],
  [err('57P01', 'terminating connection due to administrator command'), 'unreachable'],
  [err('08006'), 'unreachable'],
  [err('ECONNREFUSED'), 'unreachable'],
  [new Error('Connection terminated unexpectedly'), 'unreachable'],
  [Object.assign(new Error('query failed'), { driverError: { code: '53100' } }), 'not writable'],
  [err('SQLITE_CONSTRAINT'), null],
  [err('23505'), null],
  [new TypeError('x is undefined'), null],
])('%s -> %s', (e, kind) => {
  expect(dbUnavailableKind(e)).toBe(kind);
});

test('an outage is waited out: one line down, one line back, the operation succeeds', async () => {
  const log: string[] = [];
  const outage = new DbOutage({ timeoutMs: 2000, log: (l) => log.push(l) });
  let calls = 0;
  const value = await outage.run(() =>
    ++calls <= 3 ? Promise.reject(err('SQLITE_FULL', 'SQLITE_FULL: database or disk is full')) : Promise.resolve('ok'),
  );
  expect(value).toBe('ok');
  expect(calls).toBe(4);
  expect(log).toHaveLength(2);
  expect(log[0]).toBe('WARNING metadata DB not writable: SQLITE_FULL: database or disk is full; retrying every 0.5 s');
  expect(log[1]).toMatch(/^metadata DB available again after [\d.]+ s; resuming$/);
});

test('an ordinary error is not retried', async () => {
  const outage = new DbOutage({ timeoutMs: 2000, log: () => undefined });
  let calls = 0;
  await expect(
    outage.run(() => {
      calls++;
      return Promise.reject(err('SQLITE_CONSTRAINT'));
    }),
  ).rejects.toThrow('SQLITE_CONSTRAINT');
  expect(calls).toBe(1);
});

test('past the timeout: DbUnavailableError (exit code 3), at once for every later operation', async () => {
  const log: string[] = [];
  const outage = new DbOutage({ timeoutMs: 400, log: (l) => log.push(l) });
  let calls = 0;
  const failing = () => {
    calls++;
    return Promise.reject(err('57P01', 'terminating connection due to administrator command'));
  };
  const e = await outage.run(failing).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(DbUnavailableError);
  expect((e as DbUnavailableError).exitCode).toBe(3);
  expect((e as Error).message).toMatch(
    /metadata DB unreachable: .* for 0.4 s \(\[scheduler\] db_unavailable_timeout\)/,
  );
  // Retried every retryMs (100 ms here), not spun: a handful of calls in 400 ms.
  expect(calls).toBeLessThanOrEqual(6);
  const before = calls;
  await expect(outage.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(DbUnavailableError);
  expect(calls).toBe(before);
  expect(log.filter((l) => l.startsWith('WARNING'))).toHaveLength(1);
  expect(log.filter((l) => l.startsWith('ERROR'))).toHaveLength(1);
});
