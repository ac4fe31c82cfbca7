import PQueue from 'p-queue';
import chalk from 'chalk';
import { ConfigError } from '../../src/errors.js';

test('esm deps load under jest', async () => {
  const q = new PQueue({ concurrency: 1 });
  const r = await q.add(() => Promise.resolve(42));
  expect(r).toBe(42);
  expect(typeof chalk.red).toBe('function');
  expect(new ConfigError('core', 'x', 'bad').message).toBe('config [core] x: bad');
});
