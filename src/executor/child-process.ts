/**
 * One task try as one child process: spawn it in its own process group, send its output to the
 * try's log file, enforce execution_timeout on the whole group, and turn the outcome into a
 * TaskTryResult. Never rejects: every failure, including not being able to start, is a result.
 */
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Json } from '../dag/model.js';
import { childEnv } from './child-env.js';
import { operatorOf, planLaunch, type LaunchPlan } from '../operators/index.js';
import type { TaskTrySpec, TaskTryResult } from './types.js';
import { errorMessage } from '../errors.js';
import { TryLogSink } from './log-sink.js';
import type { LaunchedChild } from './launch.js';
import { launchChild } from './spawn-helper-client.js';
import { killGroup } from '../util/process.js';
import { BoundedText, CappedLog, DEFAULT_OUTPUT_LIMITS, LastLineTracker, type OutputLimits } from './output-limits.js';

export interface TaskTryHooks {
  /**
   * Called right after spawn to record the pid (the scheduler commits it on the task instance);
   * `hostname` when the try ran elsewhere (a BullMQ worker). A local child starts the task's work
   * only once this resolves true: false, or a rejection, and it exits without doing anything. So a
   * try's pid is always on record before its work begins.
   */
  onStart?(pid: number, hostname?: string): Promise<boolean> | boolean | void;
}

/**
 * Every child waits for a go signal: a runner's go is its spec on stdin (it reads stdin to EOF), a
 * command's go is one line on fd 3 read by this gate, which then becomes the command (exec: same
 * pid, same process group). The pipe closing without a go (the scheduler died) ends the child
 * before any work. Not stdin for bash: node's pipes are sockets, and a bash whose stdin is a socket
 * takes itself for an rsh session and sources ~/.bashrc.
 */
const GO_GATE = 'IFS= read -r _ <&3 || exit 97; exec "$@" 3<&-';

/** Time between SIGTERM and SIGKILL when execution_timeout is exceeded. */
export const KILL_GRACE_MS = 2000;

function logLine(log: TryLogSink, message: string, level: 'INFO' | 'ERROR' = 'INFO'): void {
  log.write(`[${new Date().toISOString()}] {miniflow} ${level} - ${message}\n`);
}

export async function runTaskTry(
  spec: TaskTrySpec,
  hooks: TaskTryHooks = {},
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
): Promise<TaskTryResult> {
  const startedAt = new Date();
  const failed = (error: string): TaskTryResult => ({
    ok: false,
    error,
    exitCode: null,
    signal: null,
    timedOut: false,
    startedAt,
    endedAt: new Date(),
  });

  const log = new TryLogSink(spec);
  try {
    if (spec.cacheLine) logLine(log, spec.cacheLine);
    let plan: LaunchPlan;
    try {
      plan = planLaunch(spec);
      if (spec.cwd !== undefined && !existsSync(spec.cwd))
        throw new Error(`cwd ${spec.cwd} does not exist (task ${spec.taskId})`);
    } catch (err) {
      const result = failed(errorMessage(err));
      logLine(log, `Task failed: ${result.error}`, 'ERROR');
      return result;
    }
    logLine(log, `Try ${spec.tryNumber} of ${spec.dagId}.${spec.taskId} (run ${spec.runId}): running ${plan.describe}`);
    const result = await runChild(spec, plan, log, hooks, startedAt, limits);
    // The registry says what a type pushes: a runner that sends a value anyway (a sensor) pushes none.
    if (operatorOf(spec.taskType).xcom === 'none') delete result.returnValue;
    if (result.ok) {
      logLine(log, 'Task exited successfully');
      logLine(log, `Done. Returned value was: ${describeReturnValue(result.returnValue)}`);
    } else logLine(log, `Task failed: ${result.error}`, 'ERROR');
    return result;
  } catch (err) {
    return failed(`executor error: ${errorMessage(err)}`);
  } finally {
    // Before the result: what the scheduler appends to the log next comes after the try's own lines.
    await log.close();
  }
}

/** How much of a returned value the log quotes: the XCom holds it whole. */
export const RETURNED_VALUE_LOG_CHARS = 200;

/** As Airflow logs it: a string as it is, anything else as JSON, no value as None; shortened. */
export function describeReturnValue(value: Json | undefined): string {
  if (value === undefined) return 'None';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > RETURNED_VALUE_LOG_CHARS
    ? `${text.slice(0, RETURNED_VALUE_LOG_CHARS)}… (${text.length} chars; miniflow xcom get shows all)`
    : text;
}

async function runChild(
  spec: TaskTrySpec,
  plan: LaunchPlan,
  log: TryLogSink,
  hooks: TaskTryHooks,
  startedAt: Date,
  limits: OutputLimits,
): Promise<TaskTryResult> {
  const usesResultFd = plan.input !== undefined;
  const [command, args] = usesResultFd
    ? [plan.command, plan.args]
    : ['bash', ['-c', GO_GATE, 'miniflow-go', plan.command, ...plan.args]];
  let child: LaunchedChild;
  try {
    child = await launchChild({ command, args, cwd: spec.cwd, env: childEnv(spec), goOnStdin: usesResultFd });
  } catch (err) {
    const error = `cannot start ${plan.command}: ${errorMessage(err)}`;
    return { ok: false, error, exitCode: null, signal: null, timedOut: false, startedAt, endedAt: new Date() };
  }
  const pid = child.pid;
  const capped = new CappedLog((data) => log.write(data), limits.maxLogBytes);
  // A result line is the value's JSON plus a small envelope ({"ok":true,"value":...}).
  const resultText = new BoundedText(limits.maxXcomBytes + 1024);
  const lastLine = new LastLineTracker(limits.maxXcomBytes);
  // Decoders, so a multi-byte character split across chunks is not garbled.
  const resultDecoder = new StringDecoder('utf8');
  const stdoutDecoder = new StringDecoder('utf8');

  return new Promise<TaskTryResult>((resolve) => {
    let settled = false;
    let timedOut = false;
    let deadline: NodeJS.Timeout | undefined;

    const settle = (result: Omit<TaskTryResult, 'startedAt' | 'endedAt' | 'pid' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...result, timedOut, pid, startedAt, endedAt: new Date() });
    };

    let notStarted: string | null = null;
    const go = () => child.go(usesResultFd ? JSON.stringify(plan.input) : 'go\n');
    const noGo = (why: string) => {
      notStarted = why;
      child.noGo(); // EOF without a go: the child exits on its own
      killGroup(pid, 'SIGKILL');
    };
    try {
      const started = hooks.onStart?.(pid);
      if (started === false) noGo('the task instance is no longer this try');
      else if (!(started instanceof Promise)) go();
      else
        void started.then(
          (ok) => (ok ? go() : noGo('the task instance is no longer this try')),
          (err: unknown) => noGo(`its pid could not be recorded: ${errorMessage(err)}`),
        );
    } catch (err) {
      noGo(`its pid could not be recorded: ${errorMessage(err)}`);
    }

    if (spec.executionTimeout !== null) {
      deadline = setTimeout(() => {
        timedOut = true;
        logLine(
          log,
          `execution_timeout of ${spec.executionTimeout}s exceeded: sending SIGTERM to process group ${pid}`,
        );
        killGroup(pid, 'SIGTERM');
        setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
      }, spec.executionTimeout * 1000);
    }

    child.listen({
      result: (chunk) => resultText.push(resultDecoder.write(chunk)),
      stderr: (chunk) => capped.write(chunk),
      stdout: (chunk) => {
        capped.write(chunk);
        // Keep only the last non-empty line, as Airflow's BashOperator pushes it as return_value.
        if (plan.captureStdout) lastLine.push(stdoutDecoder.write(chunk));
      },
      // After the output: the last line / result is complete by then.
      close: (code, signal, lost) => {
        resultText.push(resultDecoder.end());
        if (plan.captureStdout) lastLine.push(stdoutDecoder.end());
        const status = { exitCode: code, signal };
        const exitError = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (lost !== undefined) return settle({ ok: false, error: lost, ...status });
        if (notStarted !== null) return settle({ ok: false, error: `not started: ${notStarted}`, ...status });
        if (timedOut)
          return settle({ ok: false, error: `execution_timeout of ${spec.executionTimeout}s exceeded`, ...status });
        if (!usesResultFd) {
          if (code !== 0) return settle({ ok: false, error: exitError, ...status });
          const last = lastLine.finish(limits.maxXcomBytes);
          return settle(
            last.error === undefined
              ? { ok: true, returnValue: last.line, ...status }
              : { ok: false, error: last.error, ...status },
          );
        }
        if (resultText.overflowed) {
          // Checked before parsing: a huge value is never parsed into the scheduler's memory.
          const error = `the returned value is over [core] max_xcom_bytes (${limits.maxXcomBytes} bytes; the result line was ${resultText.totalLength} characters): return less, or write the data to a file and return its path`;
          return settle({ ok: false, error, ...status });
        }
        settle({ ...judgeResultLine(resultText.value, code === 0, exitError, limits.maxXcomBytes), ...status });
      },
    });
  });
}

/** A runner's fd-3 line decides the outcome; without one, the exit status does. */
function judgeResultLine(
  text: string,
  exitedZero: boolean,
  exitError: string,
  maxXcomBytes: number,
): { ok: boolean; returnValue?: Json; error?: string } {
  const line = text.split('\n')[0];
  if (line.trim() === '') {
    return { ok: false, error: exitedZero ? 'the runner exited without writing a result line on fd 3' : exitError };
  }
  let parsed: { ok?: unknown; value?: Json; error?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return { ok: false, error: `the runner wrote a garbled result line: ${line.slice(0, 200)}` };
  }
  if (parsed.ok === true) {
    const bytes = parsed.value === undefined ? 0 : Buffer.byteLength(JSON.stringify(parsed.value), 'utf8');
    if (exitedZero && bytes > maxXcomBytes) {
      return { ok: false, error: `the returned value is ${bytes} bytes, over [core] max_xcom_bytes (${maxXcomBytes})` };
    }
    return exitedZero ? { ok: true, returnValue: parsed.value } : { ok: false, error: exitError };
  }
  if (parsed.ok === false && typeof parsed.error === 'string') return { ok: false, error: parsed.error };
  return { ok: false, error: `the runner wrote a garbled result line: ${line.slice(0, 200)}` };
}
