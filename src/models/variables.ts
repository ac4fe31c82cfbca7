import type { MetadataDb } from '../db/data-source.js';
import { NotFoundError } from '../errors.js';
import type { Settings } from '../config/settings.js';
import { TaskInputResolver, type VariableSnapshot } from '../templating/index.js';

export interface VariableRow {
  key: string;
  val: string;
  description: string | null;
  /** null = a global variable. */
  team_name: string | null;
}

/** Airflow reads `AIRFLOW_VAR_<KEY>` (key upper-cased) before the metadata DB. */
export function envVariable(key: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`AIRFLOW_VAR_${key.toUpperCase()}`];
}

interface StoredRow {
  key: string;
  val: string;
  description: string | null;
  team_name: string;
}

const toRow = (r: StoredRow): VariableRow => ({
  key: r.key,
  val: r.val,
  description: r.description,
  team_name: r.team_name === '' ? null : r.team_name,
});

/** The `variable` table. team null = global; a team's variable hides a global one of the same key. */
export class VariableStore {
  constructor(private readonly db: MetadataDb) {}

  async set(key: string, val: string, team: string | null, now: Date, description?: string): Promise<void> {
    const t = team ?? '';
    const changed = (
      await this.db.exec(
        'UPDATE variable SET val = ?, description = COALESCE(?, description), updated_at = ? WHERE team_name = ? AND key = ?',
        [val, description ?? null, now.getTime(), t, key],
      )
    ).affected;
    if (changed > 0) return;
    await this.db.exec('INSERT INTO variable (key, val, description, team_name, updated_at) VALUES (?, ?, ?, ?, ?)', [
      key,
      val,
      description ?? null,
      t,
      now.getTime(),
    ]);
  }

  async get(key: string, team: string | null): Promise<VariableRow | undefined> {
    const rows = await this.db.query<StoredRow[]>(
      'SELECT key, val, description, team_name FROM variable WHERE key = ? AND team_name = ?',
      [key, team ?? ''],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** The variables of one team (null = global ones only). */
  async list(team: string | null): Promise<VariableRow[]> {
    const rows = await this.db.query<StoredRow[]>(
      'SELECT key, val, description, team_name FROM variable WHERE team_name = ? ORDER BY key',
      [team ?? ''],
    );
    return rows.map(toRow);
  }

  async delete(key: string, team: string | null): Promise<void> {
    const n = (await this.db.exec('DELETE FROM variable WHERE key = ? AND team_name = ?', [key, team ?? ''])).affected;
    if (n === 0) throw new NotFoundError(`variable '${key}' does not exist${team ? ` in team '${team}'` : ''}`);
  }

  /**
   * What a DAG's templates can read: AIRFLOW_VAR_<KEY> first (as Airflow), then its team's
   * variables, then global ones. One query, only for tasks whose templates mention `var`.
   */
  async snapshotFor(team: string | null, env: NodeJS.ProcessEnv = process.env): Promise<VariableSnapshot> {
    // A snapshot read (SQLite: the reader connection): a render never waits behind this process's
    // queued writes, such as the upstream hit write it was readied by (the scheduler writes no variable).
    const rows = await this.db.snapshotQuery<StoredRow[]>(
      'SELECT key, val, description, team_name FROM variable WHERE team_name = ? OR team_name = ?',
      [team ?? '', ''],
    );
    const stored: { [key: string]: string } = {};
    // defineProperty: a variable named "__proto__" stays an own key.
    const put = (r: StoredRow) =>
      Object.defineProperty(stored, r.key, { value: r.val, enumerable: true, writable: true, configurable: true });
    for (const r of rows) if (r.team_name === '') put(r);
    for (const r of rows) if (r.team_name !== '') put(r);
    const fromEnv: { [name: string]: string } = {};
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith('AIRFLOW_VAR_') && value !== undefined) fromEnv[name] = value;
    }
    return { env: fromEnv, stored };
  }
}

/** The resolver of task inputs with this DB's variables and the configured render bounds. */
export function taskInputResolver(db: MetadataDb, settings: Settings): TaskInputResolver {
  const store = new VariableStore(db);
  return new TaskInputResolver((team) => store.snapshotFor(team), {
    timeoutSeconds: settings.core.templateRenderTimeout,
    maxFieldBytes: settings.core.maxRenderedFieldBytes,
  });
}
