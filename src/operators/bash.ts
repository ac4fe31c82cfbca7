import { need } from './launch-support.js';
import type { ProcessOperator } from './types.js';

/** `bash -c bash_command`; the last non-empty stdout line is the return value, as in Airflow. */
export const bashOperator: ProcessOperator = {
  type: 'BashOperator',
  fields: { required: ['bash_command'], optional: [] },
  isSensor: false,
  cacheFromDefaultArgs: true,
  xcom: 'last-stdout-line',
  needsProcess: true,
  launch(spec) {
    const command = need(spec, spec.bashCommand, 'bash_command');
    return {
      command: 'bash',
      args: ['-c', command],
      captureStdout: true,
      describe: `bash -c ${JSON.stringify(command)}`,
    };
  },
};
