import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { TaskInstanceStore } from '../../models/task-instance.js';
import { xcomsOf } from '../../models/xcom.js';
import { parseMapIndex } from '../parse.js';
import { withRuntime } from '../with-runtime.js';
import { mapIndexes } from '../../models/task-instance-mapping.js';

export function registerXCom(program: Command): void {
  const xcom = program.command('xcom').description('values tasks pushed');
  xcom
    .command('get')
    .description('print an XCom value as JSON (default key: return_value)')
    .argument('<dag_id>')
    .argument('<run_id>')
    .argument('<task_id>')
    .option('--key <key>', 'XCom key', 'return_value')
    .option('--map-index <n>', "one instance of a mapped task (default: the list of every instance's value)")
    .action(async (dagId: string, runId: string, taskId: string, opts: { key: string; mapIndex?: string }) => {
      const mapIndex = parseMapIndex(opts.mapIndex);
      await withRuntime(async (rt) => {
        const store = new TaskInstanceStore(rt.db);
        const mapped = mapIndex < 0 && (await mapIndexes(rt.db, dagId, runId, taskId)).length > 0;
        if (!mapped) await store.get(dagId, runId, taskId, mapIndex); // names a missing run or task precisely
        const rows = (await xcomsOf(rt.db, dagId, runId, [taskId])).filter((x) => x.key === opts.key);
        if (mapped) {
          // What a downstream task receives: the instances' values in map_index order.
          const values = rows.filter((x) => x.map_index >= 0).sort((a, b) => a.map_index - b.map_index);
          process.stdout.write(`[${values.map((x) => x.value).join(', ')}]\n`);
          return;
        }
        const row = rows.find((x) => Number(x.map_index) === mapIndex);
        const which = mapIndex >= 0 ? ` (map_index ${mapIndex})` : '';
        if (!row)
          throw new NotFoundError(
            `task '${taskId}'${which} of run '${runId}' (DAG '${dagId}') has no XCom '${opts.key}'`,
          );
        process.stdout.write(row.value + '\n');
      });
    });
}
