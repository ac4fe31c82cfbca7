export interface ExecResult {
  affected: number;
  rows: unknown[];
}

/** What a transaction body gets: queries with `?` placeholders on every engine. */
export interface SqlRunner {
  query<T = unknown[]>(sql: string, params?: unknown[]): Promise<T>;
  /**
   * `onIssued` is called once the statement is on its way (SQLite: handed to its thread), so a
   * caller can start CPU-bound work that overlaps it without delaying it.
   */
  exec(sql: string, params?: unknown[], onIssued?: () => void): Promise<ExecResult>;
}
