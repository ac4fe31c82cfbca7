/**
 * What travels through BullMQ for one task try: the job (its id, its data) and the outcome a worker
 * returns. Pure, so the scheduler's and the worker's halves agree by construction.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../../dag/model.js';
import type { TaskTryResult, TaskTrySpec } from '../types.js';

/** The BullMQ job name of every task try. */
export const TRY_JOB_NAME = 'task-try';

/** Largest log text a worker sends back with an outcome; the rest is dropped with a marker line. */
export const MAX_LOG_TRANSPORT_BYTES = 8 * 1024 * 1024;

/** The try as the scheduler describes it; `logFile` is the scheduler's and is not sent. */
export type TryJobData = { spec: Omit<TaskTrySpec, 'logFile'> };

/** A worker's report of one try: the TaskTryResult with dates as text, its host, and its log. */
export interface TryJobOutcome {
  ok: boolean;
  returnValue?: Json;
  error?: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  pid?: number;
  hostname: string;
  startedAt: string;
  endedAt: string;
  log: string;
}

/** What a worker reports while the try runs (the job's progress). */
export interface TryJobProgress {
  pid: number;
  hostname: string;
}

/**
 * One job per task instance and try: enqueuing a try that is already queued or running (a
 * restarted scheduler) attaches to the existing job instead of adding a second. BullMQ refuses ':'
 * in custom ids and run ids hold it, so the ids are hashed.
 */
export function tryJobId(spec: Pick<TaskTrySpec, 'dagId' | 'runId' | 'taskId' | 'tryNumber' | 'mapIndex'>): string {
  // A mapped instance's index is part of the task instance; an unmapped task's id leaves it out.
  const mapped = spec.mapIndex !== undefined && spec.mapIndex >= 0 ? [spec.mapIndex] : [];
  const ti = createHash('sha256')
    .update(JSON.stringify([spec.dagId, spec.runId, spec.taskId, ...mapped]))
    .digest('hex');
  return `ti-${ti.slice(0, 40)}-try-${spec.tryNumber}`;
}

export function jobData(spec: TaskTrySpec): TryJobData {
  const { logFile: _local, ...rest } = spec;
  return { spec: rest };
}

export function outcomeOf(result: TaskTryResult, hostname: string, log: string): TryJobOutcome {
  return {
    ok: result.ok,
    ...(result.returnValue !== undefined ? { returnValue: result.returnValue } : {}),
    ...(result.error !== undefined ? { error: result.error } : {}),
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    ...(result.pid !== undefined ? { pid: result.pid } : {}),
    hostname,
    startedAt: result.startedAt.toISOString(),
    endedAt: result.endedAt.toISOString(),
    log: boundLog(log),
  };
}

/** The result the executor hands the scheduler; anything malformed becomes a failed try saying so. */
export function resultOf(raw: unknown, queuedAt: Date): { result: TaskTryResult; log: string } {
  const o = (typeof raw === 'string' ? safeParse(raw) : raw) as Partial<TryJobOutcome> | null;
  if (!o || typeof o !== 'object' || typeof o.ok !== 'boolean' || typeof o.hostname !== 'string') {
    return { result: lostResult(queuedAt, 'the worker returned a malformed outcome'), log: '' };
  }
  const result: TaskTryResult = {
    ok: o.ok,
    exitCode: o.exitCode ?? null,
    signal: o.signal ?? null,
    timedOut: o.timedOut === true,
    hostname: o.hostname,
    startedAt: dateOr(o.startedAt, queuedAt),
    endedAt: dateOr(o.endedAt, new Date()),
  };
  if (o.returnValue !== undefined) result.returnValue = o.returnValue;
  if (typeof o.error === 'string') result.error = o.error;
  if (typeof o.pid === 'number') result.pid = o.pid;
  return { result, log: typeof o.log === 'string' ? o.log : '' };
}

/** A try no worker reported on (its worker died, its job vanished): failed, for the retry logic to decide. */
export function lostResult(startedAt: Date, error: string, hostname?: string): TaskTryResult {
  return {
    ok: false,
    error,
    exitCode: null,
    signal: null,
    timedOut: false,
    ...(hostname !== undefined ? { hostname } : {}),
    startedAt,
    endedAt: new Date(),
  };
}

export function progressOf(raw: unknown): TryJobProgress | null {
  const p = raw as Partial<TryJobProgress> | null;
  return p && typeof p === 'object' && typeof p.pid === 'number' && typeof p.hostname === 'string'
    ? { pid: p.pid, hostname: p.hostname }
    : null;
}

function boundLog(log: string): string {
  if (Buffer.byteLength(log, 'utf8') <= MAX_LOG_TRANSPORT_BYTES) return log;
  const head = Buffer.from(log, 'utf8').subarray(0, MAX_LOG_TRANSPORT_BYTES).toString('utf8');
  return `${head}\n[miniflow] log truncated: over ${MAX_LOG_TRANSPORT_BYTES} bytes cannot travel back from the worker\n`;
}

function dateOr(text: unknown, fallback: Date): Date {
  const d = typeof text === 'string' ? new Date(text) : null;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
