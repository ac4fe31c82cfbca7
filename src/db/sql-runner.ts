export interface ExecResult {
  affected: number;
  rows: unknown[];
}

/** What a transaction body gets: queries with `?` placeholders on every engine. */
export interface SqlRunner {
  query<T = unknown[]>(sql: string, params?: unknown[]): Promise<T>;
  exec(sql: string, params?: unknown[]): Promise<ExecResult>;
}
