/**
 * Synthetic DAG files for `miniflow bench`: N tasks of one operator kind in a chain, a wide fan
 * (every task independent) or a layered diamond (layers of ~sqrt(N) tasks, each task fed by up to
 * 4 tasks of the layer above, so fan-in exists but a 10,000-task DAG stays a small file).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SHAPES = ['chain', 'wide', 'diamond'] as const;
export type Shape = (typeof SHAPES)[number];
export const OPERATOR_KINDS = ['bash', 'node', 'python', 'empty'] as const;
export type OperatorKind = (typeof OPERATOR_KINDS)[number];

export interface SyntheticDag {
  dagId: string;
  file: string;
  tasks: number;
  /** The most tasks that can run at once (bounds useful parallelism). */
  maxWidth: number;
}

const CALLABLES_DIR = 'bench_callables';

/** Tiny callables: the benchmark measures process start and scheduling, not the task's work. */
export function writeBenchCallables(dagsFolder: string): void {
  const dir = join(dagsFolder, CALLABLES_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'noop.mjs'), 'export function noop({ i }) {\n  return i;\n}\n');
  writeFileSync(join(dir, 'noop.py'), 'def noop(i):\n    return i\n');
}

function operatorFields(kind: OperatorKind, i: number, bashCommand?: string): Record<string, unknown> {
  switch (kind) {
    case 'bash':
      return { task_type: 'BashOperator', bash_command: bashCommand ?? `echo ${i}` };
    case 'node':
      return { task_type: 'NodeOperator', callable: `${CALLABLES_DIR}/noop.mjs:noop`, op_kwargs: { i } };
    case 'python':
      return { task_type: 'PythonOperator', python_callable: `${CALLABLES_DIR}/noop.py:noop`, op_kwargs: { i } };
    case 'empty':
      return { task_type: 'EmptyOperator' };
  }
}

/** Layer sizes for the shape: the task ids of layer k all depend on (some of) layer k-1. */
function layers(shape: Shape, n: number): number[] {
  if (shape === 'chain') return Array.from({ length: n }, () => 1);
  if (shape === 'wide') return [n];
  const width = Math.max(1, Math.round(Math.sqrt(n)));
  const out: number[] = [];
  for (let left = n; left > 0; left -= width) out.push(Math.min(width, left));
  return out;
}

export function writeSyntheticDag(
  dagsFolder: string,
  dagId: string,
  shape: Shape,
  kind: OperatorKind,
  n: number,
  /** For bash tasks: one command for every task instead of `echo <i>`. */
  opts: { bashCommand?: string } = {},
): SyntheticDag {
  const sizes = layers(shape, n);
  const ids: string[][] = [];
  let next = 0;
  for (const size of sizes) ids.push(Array.from({ length: size }, () => `t${next++}`));
  const downstream = new Map<string, string[]>();
  for (let l = 1; l < ids.length; l++) {
    const above = ids[l - 1];
    ids[l].forEach((id, j) => {
      // Up to 4 parents, spread over the layer above: fan-in without a quadratic edge count.
      const parents = new Set(
        Array.from(
          { length: Math.min(4, above.length) },
          (_, p) => above[(j + p * Math.ceil(above.length / 4)) % above.length],
        ),
      );
      for (const parent of parents) {
        const children = downstream.get(parent);
        if (children) children.push(id);
        else downstream.set(parent, [id]);
      }
    });
  }
  const tasks = ids.flat().map((id, i) => ({
    task_id: id,
    ...operatorFields(kind, i, opts.bashCommand),
    downstream_task_ids: downstream.get(id) ?? [],
  }));
  const doc = {
    __version: 1,
    dag: {
      dag_id: dagId,
      description: `bench: ${n} ${kind} tasks, ${shape}`,
      default_args: { cache: true, retries: 0 },
      tasks,
    },
  };
  const file = join(dagsFolder, `${dagId}.json`);
  writeFileSync(file, JSON.stringify(doc));
  // reduce, not Math.max(...sizes): a chain has one size per task, too many arguments past ~120,000.
  return { dagId, file, tasks: n, maxWidth: sizes.reduce((a, b) => Math.max(a, b), 0) };
}
