import type { TempHome } from '../helpers/cli.js';

/** A small cached DAG: `a` echoes a number, `b` doubles it through XCom; `done` is not cached. */
export function writeSmallDag(home: TempHome, dagId: string): void {
  home.writeDag({
    dag_id: dagId,
    default_args: { retries: 0, cache: true },
    tasks: [
      { task_id: 'a', task_type: 'BashOperator', bash_command: 'echo 21', downstream_task_ids: ['b'] },
      {
        task_id: 'b',
        task_type: 'BashOperator',
        bash_command: "echo $(( {{ ti.xcom_pull(task_ids='a') }} * 2 ))",
        downstream_task_ids: ['done'],
      },
      { task_id: 'done', task_type: 'EmptyOperator', cache: false, downstream_task_ids: [] },
    ],
  });
}

export interface DagTestResult {
  state: string;
  run_id: string;
  tasks: { task_id: string; state: string; cache: { decision: string; stored: boolean; reason: string } }[];
}

/** task_id -> "decision" or "decision+stored", for compact assertions. */
export function decisions(r: DagTestResult): Record<string, string> {
  return Object.fromEntries(r.tasks.map((t) => [t.task_id, `${t.cache.decision}${t.cache.stored ? '+stored' : ''}`]));
}
