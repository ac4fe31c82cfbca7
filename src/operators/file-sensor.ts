import { runnerPaths } from '../util/paths.js';
import { need, runnerScript } from './launch-support.js';
import type { ProcessOperator } from './types.js';

/** Seconds between pokes and before giving up, when the task does not say (Airflow's defaults). */
export const DEFAULT_POKE_INTERVAL = 60;
export const DEFAULT_SENSOR_TIMEOUT = 7 * 24 * 3600;

/** A node child pokes for `filepath` every `poke_interval` s up to `timeout` s; it pushes nothing. */
export const fileSensor: ProcessOperator = {
  type: 'FileSensor',
  fields: { required: ['filepath'], optional: ['poke_interval', 'timeout'] },
  isSensor: true,
  cacheFromDefaultArgs: false,
  xcom: 'none',
  needsProcess: true,
  launch(spec) {
    const filepath = need(spec, spec.filepath, 'filepath');
    return {
      command: process.execPath,
      args: [runnerScript(runnerPaths.sensor())],
      input: { filepath, poke_interval: spec.pokeInterval, timeout: spec.sensorTimeout },
      captureStdout: false,
      describe: `FileSensor for ${filepath}`,
    };
  },
};
