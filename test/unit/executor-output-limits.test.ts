// Issue 14, point 5: the bounded readers of a try's output.
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BoundedText, CappedLog, LastLineTracker } from '../../src/executor/output-limits.js';

/** What Airflow's BashOperator pushes: the last non-blank line, trailing whitespace removed. */
function reference(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length ? lines[lines.length - 1].trimEnd() : undefined;
}

test('the last line is the same however the output is cut into chunks', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', 'b', ' ', '\t', '\n', 'é', '\r'), { maxLength: 60 }),
      fc.array(fc.nat(60), { maxLength: 8 }),
      (chars, cuts) => {
        const text = chars.join('');
        const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((x, y) => x - y);
        const tracker = new LastLineTracker(1000);
        let from = 0;
        for (const p of [...points, text.length]) {
          tracker.push(text.slice(from, p));
          from = p;
        }
        expect(tracker.finish(1000).line).toBe(reference(text));
      },
    ),
  );
});

test('a line longer than the limit is an error with its length, and only the limit is kept', () => {
  const tracker = new LastLineTracker(10);
  for (let i = 0; i < 1000; i++) tracker.push('x'.repeat(1000));
  expect(tracker.finish(10).error).toMatch(
    /^the return value \(last line of stdout\) is 1000000 characters, over \[core\] max_xcom_bytes \(10\)/,
  );
  const shortAfterLong = new LastLineTracker(10);
  shortAfterLong.push('x'.repeat(100) + '\nshort   \n\n');
  expect(shortAfterLong.finish(10)).toEqual({ line: 'short' });
  const multiByte = new LastLineTracker(10);
  multiByte.push('éééééé'); // 6 characters, 12 bytes
  expect(multiByte.finish(10).error).toMatch(/is 12 bytes/);
});

test('a capped log keeps the first max bytes, then one marker line, then nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-caplog-'));
  const file = join(dir, 'attempt=1.log');
  const fd = openSync(file, 'a');
  const log = new CappedLog(fd, 10);
  log.write(Buffer.from('12345678'));
  log.write(Buffer.from('abcdef'));
  log.write(Buffer.from('more'));
  closeSync(fd);
  const text = readFileSync(file, 'utf8');
  expect(text).toMatch(/^12345678ab\n\[miniflow\] log truncated: .*max_log_bytes_per_try \(10 bytes\).*\n$/);
  expect(log.droppedBytes).toBe(8);
});

test('bounded text keeps up to its limit and counts the rest', () => {
  const t = new BoundedText(5);
  t.push('abc');
  t.push('defgh');
  expect([t.value, t.overflowed, t.totalLength]).toEqual(['abcde', true, 8]);
});
