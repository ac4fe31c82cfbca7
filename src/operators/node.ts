import { runnerPaths } from '../util/paths.js';
import { need, runnerScript } from './launch-support.js';
import type { ProcessOperator } from './types.js';

/** A node child calls `callable` as f(op_kwargs) or f(...op_args, op_kwargs); its JSON return comes back on fd 3. */
export const nodeOperator: ProcessOperator = {
  type: 'NodeOperator',
  fields: { required: ['callable'], optional: [] },
  callableField: 'callable',
  isSensor: false,
  cacheFromDefaultArgs: true,
  xcom: 'json-return-value',
  needsProcess: true,
  launch(spec) {
    const file = need(spec, spec.callableFile, 'a callable file');
    const name = need(spec, spec.callableName, 'a callable name');
    return {
      command: process.execPath,
      args: [runnerScript(runnerPaths.node())],
      input: { file, name, args: spec.opArgs, kwargs: spec.opKwargs },
      captureStdout: false,
      describe: `NodeOperator ${name}() from ${file}`,
    };
  },
};
