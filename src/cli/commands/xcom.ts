import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { TaskInstanceStore } from '../../models/task-instance.js';
import { xcomsOf } from '../../models/xcom.js';
import { withRuntime } from '../with-runtime.js';

export function registerXCom(program: Command): void {
  const xcom = program.command('xcom').description('values tasks pushed');
  xcom
    .command('get')
    .description('print an XCom value as JSON (default key: return_value)')
    .argument('<dag_id>')
    .argument('<run_id>')
    .argument('<task_id>')
    .option('--key <key>', 'XCom key', 'return_value')
    .action(async (dagId: string, runId: string, taskId: string, opts: { key: string }) => {
      await withRuntime(async (rt) => {
        const store = new TaskInstanceStore(rt.db);
        await store.get(dagId, runId, taskId); // names a missing run or task precisely
        const row = (await xcomsOf(rt.db, dagId, runId, [taskId])).find((x) => x.key === opts.key);
        if (!row)
          throw new NotFoundError(`task '${taskId}' of run '${runId}' (DAG '${dagId}') has no XCom '${opts.key}'`);
        process.stdout.write(row.value + '\n');
      });
    });
}
