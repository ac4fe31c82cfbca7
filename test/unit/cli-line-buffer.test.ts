import { Writable } from 'node:stream';
import { lineBuffer } from '../../src/cli/line-buffer.js';

function sink(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes };
}

test('lines logged in one turn are one write, in order; the next turn starts a new write', async () => {
  const { stream, writes } = sink();
  const b = lineBuffer(stream);
  for (let i = 0; i < 1000; i++) b.log(`task t${i}: success`);
  expect(writes).toHaveLength(0);
  await new Promise((r) => setImmediate(r));
  expect(writes).toHaveLength(1);
  expect(writes[0].split('\n')).toHaveLength(1001); // 1000 lines and the final newline
  expect(writes[0].startsWith('task t0: success\ntask t1: success\n')).toBe(true);
  b.log('later');
  b.flush();
  expect(writes).toEqual([writes[0], 'later\n']);
  await new Promise((r) => setImmediate(r));
  expect(writes).toHaveLength(2); // the scheduled flush finds nothing left
});
