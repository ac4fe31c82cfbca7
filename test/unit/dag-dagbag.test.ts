import { join } from 'node:path';
import { findDagFiles, loadDagBag } from '../../src/dag/dagbag.js';
import { bash, envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

describe('loadDagBag', () => {
  test('one bad file among good ones leaves the good ones loaded', () => {
    const bundle = tempBundle('main');
    writeIn(bundle, 'a_good.json', envelope('good_a', [bash('x', ['y']), bash('y')]));
    const bad = writeIn(bundle, 'b_bad.json', envelope('broken', [bash('x', ['ghost'])]));
    const garbled = writeIn(bundle, 'c_garbled.json', '{"__version": 1,');
    writeIn(bundle, 'nested/d_good.json', envelope('good_d', [bash('z')]));

    const { dags, importErrors } = loadDagBag([bundle]);
    expect([...dags.keys()].sort()).toEqual(['good_a', 'good_d']);
    expect(importErrors).toEqual([
      {
        filename: bad,
        bundleName: 'main',
        dagId: 'broken',
        taskId: 'x',
        message: expect.stringContaining("downstream_task_ids names unknown task 'ghost'"),
      },
      { filename: garbled, bundleName: 'main', message: expect.stringMatching(/malformed JSON at line 1, column 17/) },
    ]);
    expect(importErrors[0].message.startsWith(bad)).toBe(true);

    const a = dags.get('good_a')!;
    expect(a.bundleName).toBe('main');
    expect(a.bundlePath).toBe(bundle.path);
    expect(a.tasks.get('y')!.upstreamTaskIds).toEqual(['x']);
    expect(a.topoOrder).toEqual(['x', 'y']);
  });

  test('a dag_id already loaded from another file is an import error for the later file', () => {
    const first = tempBundle('one', 'team_a');
    const second = tempBundle('two', 'team_b');
    const f1 = writeIn(first, 'same.json', envelope('same', [bash('a')]));
    const f2 = writeIn(second, 'same.json', envelope('same', [bash('b')]));
    const { dags, importErrors } = loadDagBag([first, second]);
    expect(dags.get('same')!.fileloc).toBe(f1);
    expect(dags.get('same')!.teamName).toBe('team_a');
    expect(importErrors).toHaveLength(1);
    expect(importErrors[0]).toMatchObject({ filename: f2, bundleName: 'two', dagId: 'same' });
    expect(importErrors[0].message).toContain(`already loaded from ${f1}`);
  });

  test('files are found recursively and sorted, skipping node_modules, dot-folders and package.json', () => {
    const bundle = tempBundle();
    writeIn(bundle, 'b.json', '{}');
    writeIn(bundle, 'a/z.json', '{}');
    writeIn(bundle, 'a.json', '{}');
    writeIn(bundle, 'notes.txt', 'x');
    writeIn(bundle, 'node_modules/pkg/x.json', '{}');
    writeIn(bundle, '.git/x.json', '{}');
    writeIn(bundle, 'package.json', '{"type": "module"}');
    expect(findDagFiles(bundle.path)).toEqual([
      join(bundle.path, 'a/z.json'),
      join(bundle.path, 'a.json'),
      join(bundle.path, 'b.json'),
    ]);
  });

  test('a missing bundle folder is an import error, other bundles still load', () => {
    const good = tempBundle('good');
    writeIn(good, 'g.json', envelope('g', [bash('a')]));
    const { dags, importErrors } = loadDagBag([
      { name: 'gone', path: join(good.path, 'missing'), teamName: null },
      good,
    ]);
    expect([...dags.keys()]).toEqual(['g']);
    expect(importErrors[0]).toMatchObject({
      bundleName: 'gone',
      message: expect.stringContaining("DAG bundle 'gone'"),
    });
  });
});
