import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBundles } from '../../src/dag/bundles.js';
import { ConfigError } from '../../src/errors.js';
import type { Settings } from '../../src/config/settings.js';

// Bundle folders must exist: a home with dags/ and dags/a, and an absolute folder for bundle b.
const home = mkdtempSync(join(tmpdir(), 'mf-bundles-'));
const srvB = mkdtempSync(join(tmpdir(), 'mf-bundle-b-'));
mkdirSync(join(home, 'dags', 'a'), { recursive: true });

function settings(list: string, multiTeam = false): Settings {
  return {
    airflowHome: home,
    core: { dagsFolder: `${home}/dags`, multiTeam } as Settings['core'],
    dagProcessor: { dagBundleConfigList: list },
  } as Settings;
}

function configError(list: string): ConfigError {
  try {
    resolveBundles(settings(list));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveBundles', () => {
  test('an empty list gives one dags-folder bundle', () => {
    expect(resolveBundles(settings(''))).toEqual([{ name: 'dags-folder', path: `${home}/dags`, teamName: null }]);
    expect(resolveBundles(settings('[]'))).toEqual([{ name: 'dags-folder', path: `${home}/dags`, teamName: null }]);
  });

  const list = JSON.stringify([
    {
      name: 'a',
      kwargs: { path: 'dags/a' },
      team_name: 'team_a',
      classpath: 'airflow.dag_processing.bundles.local.LocalDagBundle',
    },
    { name: 'b', kwargs: { path: srvB } },
  ]);
  test('paths resolve against AIRFLOW_HOME; team names only with multi_team', () => {
    expect(resolveBundles(settings(list, true))).toEqual([
      { name: 'a', path: `${home}/dags/a`, teamName: 'team_a' },
      { name: 'b', path: srvB, teamName: null },
    ]);
    expect(resolveBundles(settings(list, false)).map((b) => b.teamName)).toEqual([null, null]);
  });

  test.each([
    ['not json', /not valid JSON/],
    ['{"name": "a"}', /must be a JSON list/],
    ['[{"kwargs": {"path": "x"}}]', /entry 0 needs a non-empty string "name"/],
    ['[{"name": "a"}]', /bundle 'a' needs "kwargs": \{"path": "..."\}/],
    [
      '[{"name": "a", "kwargs": {"path": "x"}}, {"name": "a", "kwargs": {"path": "y"}}]',
      /bundle name 'a' appears twice/,
    ],
    ['[{"name": "a", "kwargs": {"path": "x"}, "team_name": 5}]', /"team_name" must be a non-empty string or null/],
    ['[{"name": "a", "kwargs": {"path": "missing"}}]', /bundle 'a': folder .*\/missing does not exist/],
  ])('bad list %s', (text, detail) => {
    const err = configError(text);
    expect(err.section).toBe('dag_processor');
    expect(err.key).toBe('dag_bundle_config_list');
    expect(err.message).toMatch(/^config \[dag_processor\] dag_bundle_config_list: /);
    expect(err.message).toMatch(detail);
  });
});
