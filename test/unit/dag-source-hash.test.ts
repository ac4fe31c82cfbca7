import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDagBag, loadDagFile } from '../../src/dag/dagbag.js';
import type { DagBundle } from '../../src/dag/model.js';
import { ModuleHasher } from '../../src/dag/source-hash.js';
import { computeSourceHash } from '../../src/dag/task-source-hash.js';
import { envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const BODY_V1 = 'def load(day):\n    return day\n';
const BODY_V2 = 'def load(day):\n    return day * 2\n';

function pythonTask(extra: Record<string, unknown> = {}) {
  return {
    task_id: 'load',
    task_type: 'PythonOperator',
    python_callable: 'jobs/load.py:load',
    op_kwargs: { day: '{{ ds }}' },
    ...extra,
  };
}

function hashOf(bundle: DagBundle, task: Record<string, unknown>, dagFields: Record<string, unknown> = {}): string {
  const file = writeIn(bundle, 'd.json', envelope('d', [task], dagFields));
  return loadDagFile(file, bundle).tasks.get('load')!.sourceHash;
}

describe('task source hash', () => {
  let bundle: DagBundle;
  beforeEach(() => {
    bundle = tempBundle();
    writeIn(bundle, 'jobs/load.py', BODY_V1);
  });

  test('is a sha256 hex digest', () => {
    expect(hashOf(bundle, pythonTask())).toMatch(/^[0-9a-f]{64}$/);
  });

  test('cosmetic and scheduling edits leave it unchanged', () => {
    const base = hashOf(bundle, pythonTask());
    const cosmetic = hashOf(
      bundle,
      pythonTask({
        doc_md: '# Loads the day',
        owner: 'someone-else',
        retries: 4,
        retry_delay: 10,
        ui_color: '#fff',
        pool: 'big',
        priority_weight: 9,
        execution_timeout: 60,
        trigger_rule: 'all_done',
      }),
      { description: 'new words', default_args: { owner: 'x', retries: 2 } },
    );
    expect(cosmetic).toBe(base);
  });

  test('input edits leave it unchanged (inputs are hashed separately after rendering)', () => {
    const base = hashOf(bundle, pythonTask());
    expect(
      hashOf(bundle, pythonTask({ op_kwargs: { day: 'other' }, op_args: [1], env: { A: 'b' }, cwd: '/tmp' })),
    ).toBe(base);
  });

  test('editing the callable body changes it', () => {
    const before = hashOf(bundle, pythonTask());
    writeFileSync(join(bundle.path, 'jobs/load.py'), BODY_V2);
    expect(hashOf(bundle, pythonTask())).not.toBe(before);
  });

  test('changing the callable reference, task type or bash template changes it', () => {
    writeIn(bundle, 'jobs/other.py', BODY_V1);
    const base = hashOf(bundle, pythonTask());
    expect(hashOf(bundle, pythonTask({ python_callable: 'jobs/other.py:load' }))).not.toBe(base);
    const bashA = computeSourceHash({ taskType: 'BashOperator', bashCommand: 'echo {{ ds }}' }, new ModuleHasher());
    const bashB = computeSourceHash({ taskType: 'BashOperator', bashCommand: 'echo {{ ts }}' }, new ModuleHasher());
    const other = computeSourceHash(
      { taskType: 'OtherBashOperator', bashCommand: 'echo {{ ds }}' },
      new ModuleHasher(),
    );
    expect(new Set([bashA, bashB, other]).size).toBe(3);
  });

  test('a module is read once per DagBag load, and the next load sees an edit', () => {
    const modules = new ModuleHasher();
    const file = join(bundle.path, 'jobs/load.py');
    const first = modules.hash(file);
    writeFileSync(file, BODY_V2);
    expect(modules.hash(file)).toBe(first); // memoized within the load
    expect(new ModuleHasher().hash(file)).not.toBe(first);

    writeFileSync(file, BODY_V1);
    writeIn(bundle, 'a.json', envelope('a', [pythonTask()]));
    writeIn(bundle, 'b.json', envelope('b', [pythonTask()]));
    const bag1 = loadDagBag([bundle]);
    expect(bag1.dags.get('a')!.tasks.get('load')!.sourceHash).toBe(bag1.dags.get('b')!.tasks.get('load')!.sourceHash);
    writeFileSync(file, BODY_V2);
    const bag2 = loadDagBag([bundle]);
    expect(bag2.dags.get('a')!.tasks.get('load')!.sourceHash).not.toBe(
      bag1.dags.get('a')!.tasks.get('load')!.sourceHash,
    );
  });
});
