import type { Settings } from './settings.js';
import type { ValueKind } from './value-kinds.js';

type Group = Exclude<keyof Settings, 'airflowHome'>;

/**
 * One airflow.cfg option. This table drives defaults, parsing, validation, `config get-value` and
 * airflow.cfg.example, so they cannot drift apart.
 */
export interface ConfigOption {
  section: string;
  key: string;
  /** As written in airflow.cfg.example; `{AIRFLOW_HOME}` is substituted when loading. */
  default: string;
  description: string;
  kind: ValueKind<unknown>;
  /** Where the settled value lands in Settings. */
  field: readonly [Group, string];
}

// Typed constructor: the kind's value type must match the Settings field it fills.
export function option<G extends Group, F extends keyof Settings[G] & string>(
  section: string,
  key: string,
  defaultValue: string,
  field: readonly [G, F],
  kind: ValueKind<Settings[G][F]>,
  description: string,
): ConfigOption {
  return { section, key, default: defaultValue, description, kind, field };
}
