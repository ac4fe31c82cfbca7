import { RenderLimitExceeded, chargeRunningRender } from './engine.js';
import { ArrayValue, Environment, FloatValue, IntegerValue } from './jinja-runtime.js';
import { fn, numberArg } from './values.js';

/** Jinja's sandbox range limit: `range(n)` with more items is an error, not an allocation. */
export const MAX_RANGE = 100_000;

/** Globals every template sees: Jinja's constants and a bounded `range`; nothing else. */
export function globalsEnvironment(): Environment {
  const env = new Environment();
  for (const [k, v] of [
    ['true', true],
    ['false', false],
    ['none', null],
    ['True', true],
    ['False', false],
    ['None', null],
  ] as const)
    env.set(k, v);
  env.variables.set(
    'range',
    fn((c) => {
      let start = numberArg(c, 0, 'start', 'range');
      let stop = numberArg(c, 1, 'stop', 'range', Number.NaN);
      const step = numberArg(c, 2, 'step', 'range', 1);
      if (Number.isNaN(stop)) [start, stop] = [0, start];
      if (step === 0) throw new Error('range() step must not be zero');
      const count = Math.max(0, Math.ceil((stop - start) / step));
      if (count > MAX_RANGE)
        throw new RenderLimitExceeded(`range() of ${count} items is over the limit of ${MAX_RANGE}`);
      // Charged before allocating: a large range stops an in-process attempt before it costs anything.
      chargeRunningRender(count);
      const out = [];
      for (let i = 0; i < count; i++) {
        const n = start + i * step;
        out.push(Number.isInteger(n) ? new IntegerValue(n) : new FloatValue(n));
      }
      return new ArrayValue(out);
    }),
  );
  return env;
}
