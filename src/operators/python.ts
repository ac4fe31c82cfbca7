import { runnerPaths } from '../util/paths.js';
import { need, runnerScript } from './launch-support.js';
import type { ProcessOperator } from './types.js';

export const PYTHON_EXECUTABLE = 'python3';

/** A python3 child calls `python_callable` as f(*op_args, **op_kwargs); its JSON return comes back on fd 3. */
export const pythonOperator: ProcessOperator = {
  type: 'PythonOperator',
  fields: { required: ['python_callable'], optional: [] },
  callableField: 'python_callable',
  isSensor: false,
  cacheFromDefaultArgs: true,
  xcom: 'json-return-value',
  needsProcess: true,
  launch(spec) {
    const file = need(spec, spec.callableFile, 'a callable file');
    const name = need(spec, spec.callableName, 'a callable name');
    return {
      command: PYTHON_EXECUTABLE,
      // -u: unbuffered, so the log shows output as it happens and keeps its order with stderr.
      args: ['-u', runnerScript(runnerPaths.python())],
      input: { file, name, args: spec.opArgs, kwargs: spec.opKwargs },
      captureStdout: false,
      describe: `PythonOperator ${name}() from ${file}`,
    };
  },
};
