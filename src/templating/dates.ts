import { DateTime, Duration } from 'luxon';
import { IntegerValue, StringValue, type AnyRuntimeValue, type ObjectValue as ObjectValueT } from './jinja-runtime.js';
import { MembersValue, fn, numberArg, stringArg, type CallArgs } from './values.js';

/** Python strftime codes and the luxon tokens they mean (UTC, English names, as Airflow's default). */
const PY_TO_LUXON: Record<string, string> = {
  Y: 'yyyy',
  y: 'yy',
  m: 'LL',
  d: 'dd',
  H: 'HH',
  I: 'hh',
  M: 'mm',
  S: 'ss',
  f: 'SSS000',
  p: 'a',
  b: 'LLL',
  B: 'LLLL',
  a: 'ccc',
  A: 'cccc',
  j: 'ooo',
  z: 'ZZZ',
  Z: 'ZZZZ',
  e: 'd',
};

/** A luxon format for a Python strftime/strptime format; literal text is quoted. */
function luxonFormat(pyFormat: string): string {
  let out = '';
  let literal = '';
  const flush = () => {
    if (literal) out += `'${literal.replaceAll("'", "''")}'`;
    literal = '';
  };
  for (let i = 0; i < pyFormat.length; i++) {
    const c = pyFormat[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const code = pyFormat[++i];
    if (code === '%') {
      literal += '%';
      continue;
    }
    const token = PY_TO_LUXON[code ?? ''];
    if (!token) throw new Error(`unsupported strftime code '%${code ?? ''}'`);
    flush();
    out += token;
  }
  flush();
  return out;
}

export function strftime(dt: DateTime, pyFormat: string): string {
  return dt.setLocale('en-US').toFormat(luxonFormat(pyFormat));
}

export function strptime(text: string, pyFormat: string): DateTime {
  const dt = DateTime.fromFormat(text, luxonFormat(pyFormat), { zone: 'utc', locale: 'en-US' });
  if (!dt.isValid) throw new Error(`time data '${text}' does not match format '${pyFormat}'`);
  return dt;
}

/** Python's isoformat: `2024-01-01T00:00:00+00:00`, microseconds only when non-zero. */
export function isoformat(dt: DateTime): string {
  const frac = dt.millisecond ? `.${String(dt.millisecond * 1000).padStart(6, '0')}` : '';
  return `${dt.toFormat("yyyy-LL-dd'T'HH:mm:ss")}${frac}${dt.toFormat('ZZ')}`;
}

/** A `datetime.timedelta`. */
export class TimedeltaValue extends MembersValue {
  constructor(readonly duration: Duration) {
    const seconds = duration.as('seconds');
    super(
      [
        ['days', new IntegerValue(Math.trunc(seconds / 86400))],
        ['seconds', new IntegerValue(Math.trunc(seconds % 86400))],
        ['total_seconds', fn(() => new IntegerValue(seconds))],
      ],
      'timedelta',
    );
  }
  override toString(): string {
    return this.duration.toISO() ?? '';
  }
}

/** A timezone-aware datetime (UTC), printing as miniflow always printed `logical_date`. */
export class DateTimeValue extends MembersValue {
  constructor(readonly dt: DateTime) {
    super(
      [
        ['year', new IntegerValue(dt.year)],
        ['month', new IntegerValue(dt.month)],
        ['day', new IntegerValue(dt.day)],
        ['hour', new IntegerValue(dt.hour)],
        ['minute', new IntegerValue(dt.minute)],
        ['second', new IntegerValue(dt.second)],
        ['strftime', fn((c) => new StringValue(strftime(dt, stringArg(c, 0, 'format', 'strftime'))))],
        ['isoformat', fn(() => new StringValue(isoformat(dt)))],
        ['to_date_string', fn(() => new StringValue(dt.toFormat('yyyy-LL-dd')))],
        ['date', fn(() => new StringValue(dt.toFormat('yyyy-LL-dd')))],
        ['timestamp', fn(() => new IntegerValue(dt.toSeconds()))],
        // pendulum's add/subtract, which Airflow's logical_date has.
        ['add', fn((c) => new DateTimeValue(dt.plus(durationOf(c))))],
        ['subtract', fn((c) => new DateTimeValue(dt.minus(durationOf(c))))],
      ],
      'datetime',
    );
  }
  override toString(): string {
    return this.dt.toISO() ?? '';
  }
}

const UNITS = ['weeks', 'days', 'hours', 'minutes', 'seconds', 'milliseconds'] as const;

/** timedelta(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0) by keyword. */
function durationOf(call: CallArgs): Duration {
  const parts: Record<string, number> = {};
  for (const unit of UNITS) parts[unit] = numberArg(call, -1, unit, 'timedelta', 0);
  if (call.positional.length > 0) parts.days = numberArg(call, 0, 'days', 'timedelta');
  return Duration.fromObject(parts);
}

export function dateTimeOf(iso: string): DateTimeValue {
  return new DateTimeValue(DateTime.fromISO(iso, { zone: 'utc' }));
}

/** `logical_date + timedelta`, `logical_date - timedelta`, `date - date`; undefined = not a date operation. */
export function dateArithmetic(op: string, left: AnyRuntimeValue, right: AnyRuntimeValue): AnyRuntimeValue | undefined {
  if (op !== '+' && op !== '-') return undefined;
  if (left instanceof DateTimeValue && right instanceof TimedeltaValue) {
    return new DateTimeValue(op === '+' ? left.dt.plus(right.duration) : left.dt.minus(right.duration));
  }
  if (op === '+' && left instanceof TimedeltaValue && right instanceof DateTimeValue) {
    return new DateTimeValue(right.dt.plus(left.duration));
  }
  if (op === '-' && left instanceof DateTimeValue && right instanceof DateTimeValue) {
    return new TimedeltaValue(left.dt.diff(right.dt));
  }
  if (left instanceof TimedeltaValue && right instanceof TimedeltaValue) {
    return new TimedeltaValue(op === '+' ? left.duration.plus(right.duration) : left.duration.minus(right.duration));
  }
  return undefined;
}

function ymd(text: string, fnName: string): DateTime {
  const dt = DateTime.fromFormat(text, 'yyyy-LL-dd', { zone: 'utc' });
  if (!dt.isValid) throw new Error(`${fnName}() needs a date as YYYY-MM-DD, got '${text}'`);
  return dt;
}

/** Airflow's `macros`: ds_add, ds_format, datetime and timedelta (no clock: templates stay reproducible). */
export function buildMacros(): ObjectValueT {
  const datetime = new MembersValue(
    [
      [
        'strptime',
        fn(
          (c) =>
            new DateTimeValue(
              strptime(stringArg(c, 0, 'date_string', 'strptime'), stringArg(c, 1, 'format', 'strptime')),
            ),
        ),
      ],
      [
        'fromisoformat',
        fn((c) => {
          const dt = DateTime.fromISO(stringArg(c, 0, 'date_string', 'fromisoformat'), { zone: 'utc' });
          if (!dt.isValid) throw new Error('fromisoformat() needs an ISO 8601 date');
          return new DateTimeValue(dt);
        }),
      ],
    ],
    'datetime',
  );
  return new MembersValue(
    [
      [
        'ds_add',
        fn((c) => {
          const ds = stringArg(c, 0, 'ds', 'ds_add');
          return new StringValue(
            ymd(ds, 'ds_add')
              .plus({ days: numberArg(c, 1, 'days', 'ds_add') })
              .toFormat('yyyy-LL-dd'),
          );
        }),
      ],
      [
        'ds_format',
        fn((c) => {
          const ds = stringArg(c, 0, 'ds', 'ds_format');
          const input = stringArg(c, 1, 'input_format', 'ds_format');
          const output = stringArg(c, 2, 'output_format', 'ds_format');
          return new StringValue(strftime(strptime(ds, input), output));
        }),
      ],
      ['datetime', datetime],
      ['timedelta', fn((c) => new TimedeltaValue(durationOf(c)))],
    ],
    'macros',
  );
}
