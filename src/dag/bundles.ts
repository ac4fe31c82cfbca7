import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, errorMessage } from '../errors.js';
import type { Settings } from '../config/settings.js';
import type { DagBundle } from './model.js';

const SECTION = 'dag_processor';
const KEY = 'dag_bundle_config_list';

/**
 * DAG bundles from `[dag_processor] dag_bundle_config_list`, or one `dags-folder` bundle from
 * `[core] dags_folder` when the list is empty. Teams only exist when `[core] multi_team` is on.
 */
export function resolveBundles(settings: Settings): DagBundle[] {
  const text = settings.dagProcessor.dagBundleConfigList.trim();
  if (text === '' || text === '[]') {
    const path = resolve(settings.core.dagsFolder);
    const missing = folderProblem(path);
    if (missing)
      throw new ConfigError(
        'core',
        'dags_folder',
        `${missing}: create it, or set [core] dags_folder to the folder holding your DAG files`,
      );
    return [{ name: 'dags-folder', path, teamName: null }];
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      SECTION,
      KEY,
      `not valid JSON (${errorMessage(e)}); expected a list like [{"name": "team_a", "kwargs": {"path": "dags/team_a"}, "team_name": "team_a"}]`,
    );
  }
  if (!Array.isArray(list))
    throw new ConfigError(SECTION, KEY, 'must be a JSON list of {"name", "kwargs": {"path"}, "team_name"?} objects');
  const names = new Set<string>();
  const bundles = list.map((entry, i): DagBundle => {
    const at = `entry ${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(SECTION, KEY, `${at} must be an object with "name" and "kwargs": {"path"}`);
    }
    const { name, kwargs, team_name: teamName } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '')
      throw new ConfigError(SECTION, KEY, `${at} needs a non-empty string "name"`);
    if (names.has(name))
      throw new ConfigError(SECTION, KEY, `bundle name '${name}' appears twice; bundle names must be unique`);
    names.add(name);
    const path = typeof kwargs === 'object' && kwargs !== null ? (kwargs as Record<string, unknown>).path : undefined;
    if (typeof path !== 'string' || path.trim() === '') {
      throw new ConfigError(
        SECTION,
        KEY,
        `bundle '${name}' needs "kwargs": {"path": "..."} (relative to AIRFLOW_HOME or absolute)`,
      );
    }
    if (teamName !== undefined && teamName !== null && (typeof teamName !== 'string' || teamName === '')) {
      throw new ConfigError(SECTION, KEY, `bundle '${name}': "team_name" must be a non-empty string or null`);
    }
    return {
      name,
      path: isAbsolute(path) ? resolve(path) : resolve(settings.airflowHome, path),
      teamName: settings.core.multiTeam ? (teamName ?? null) : null,
    };
  });
  // Folders are checked once the whole list is well-formed, so a list error is reported first.
  for (const bundle of bundles) {
    const missing = folderProblem(bundle.path);
    if (missing) {
      throw new ConfigError(
        SECTION,
        KEY,
        `bundle '${bundle.name}': ${missing} (kwargs.path is relative to AIRFLOW_HOME or absolute)`,
      );
    }
  }
  return bundles;
}

/** Why `path` cannot be a DAG folder (missing, or a file), or null. A typo must not list nothing and exit 0. */
function folderProblem(path: string): string | null {
  try {
    return statSync(path).isDirectory() ? null : `${path} is not a folder`;
  } catch {
    return `folder ${path} does not exist`;
  }
}
