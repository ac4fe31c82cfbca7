import type { NoProcessOperator } from './types.js';

/** Runs nothing: the scheduler marks it success, as Airflow does. */
export const emptyOperator: NoProcessOperator = {
  type: 'EmptyOperator',
  fields: { required: [], optional: [] },
  isSensor: false,
  cacheFromDefaultArgs: true,
  xcom: 'none',
  needsProcess: false,
};
