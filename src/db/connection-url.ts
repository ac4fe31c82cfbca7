import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export type DbKind = 'sqlite' | 'postgres';

/** `sqlite:////abs/file.db`, `sqlite:///rel/file.db` (relative to AIRFLOW_HOME), a bare path, or `postgresql://...`. */
export function parseConn(conn: string, airflowHome: string): { kind: DbKind; target: string } {
  if (/^postgres(ql)?(\+\w+)?:\/\//.test(conn)) {
    return { kind: 'postgres', target: conn.replace(/^postgres(ql)?(\+\w+)?:/, 'postgresql:') };
  }
  if (conn.startsWith('sqlite://')) {
    const path = conn.slice('sqlite:///'.length);
    if (!conn.startsWith('sqlite:///') || !path) {
      throw new ConfigError(
        'database',
        'sql_alchemy_conn',
        `'${conn}' is not a SQLite URL: write sqlite:////absolute/path.db`,
      );
    }
    return { kind: 'sqlite', target: isAbsolute(path) ? path : resolve(airflowHome, path) };
  }
  if (/^[a-z][\w+.-]*:\/\//i.test(conn)) {
    throw new ConfigError(
      'database',
      'sql_alchemy_conn',
      `unsupported database URL '${conn.split(':')[0]}://...': use sqlite:///... or postgresql://...`,
    );
  }
  return { kind: 'sqlite', target: isAbsolute(conn) ? conn : resolve(airflowHome, conn) };
}
