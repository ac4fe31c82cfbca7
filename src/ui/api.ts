/** Typed calls to the API of the same origin; a problem JSON's `detail` becomes the error message. */

export interface Dag {
  dag_id: string;
  description: string | null;
  is_paused: boolean;
  timetable_summary: string | null;
  fileloc: string;
  tags: { name: string }[];
  has_import_errors: boolean;
}
export interface DagRun {
  dag_run_id: string;
  dag_id: string;
  state: string;
  logical_date: string | null;
  start_date: string | null;
  end_date: string | null;
  conf: unknown;
}
export interface CacheInfo {
  decision: string;
  reason: string;
  key: string | null;
  source_run_id: string | null;
  time_saved: number | null;
  stored: boolean;
}
export interface TaskInstance {
  task_id: string;
  dag_id: string;
  dag_run_id: string;
  state: string | null;
  try_number: number;
  max_tries: number;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
  operator: string;
  error: string | null;
  cache: CacheInfo;
}
export interface TaskDef {
  task_id: string;
  operator_name: string;
  downstream_task_ids: string[];
}
export const TOKEN_KEY = 'miniflow.api-token';
export const token = (): string => sessionStorage.getItem(TOKEN_KEY) ?? '';

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (token()) h.Authorization = `Bearer ${token()}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 204) return undefined as T;
  const data = (await r.json()) as unknown;
  if (!r.ok) {
    const detail = (data as { detail?: unknown }).detail;
    throw new Error(typeof detail === 'string' ? detail : `HTTP ${r.status}`);
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body: unknown) => call<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => call<T>('PATCH', path, body);
export const del = (path: string) => call<void>('DELETE', path);

export const enc = encodeURIComponent;
export const dagPath = (dagId: string) => `/api/v2/dags/${enc(dagId)}`;
export const runPath = (dagId: string, runId: string) => `${dagPath(dagId)}/dagRuns/${enc(runId)}`;
export const tiPath = (dagId: string, runId: string, taskId: string) =>
  `${runPath(dagId, runId)}/taskInstances/${enc(taskId)}`;
export const panelHref = (dagId: string, runId: string, taskId: string) =>
  `/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`;

/** The latest `n` runs of a DAG, oldest first (the API pages oldest first, so read the total first). */
export async function latestRuns(dagId: string, n: number): Promise<DagRun[]> {
  const head = await get<{ total_entries: number }>(`${dagPath(dagId)}/dagRuns?limit=0`);
  const offset = Math.max(0, head.total_entries - n);
  return (await get<{ dag_runs: DagRun[] }>(`${dagPath(dagId)}/dagRuns?limit=${n}&offset=${offset}`)).dag_runs;
}

export async function taskInstances(dagId: string, runId: string): Promise<TaskInstance[]> {
  return (await get<{ task_instances: TaskInstance[] }>(`${runPath(dagId, runId)}/taskInstances?limit=1000`))
    .task_instances;
}
