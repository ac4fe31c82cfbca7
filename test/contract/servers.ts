/**
 * The real PostgreSQL and Redis servers tests may use. Their URLs come from
 * MINIFLOW_TEST_POSTGRES_URL and MINIFLOW_TEST_REDIS_URL (.ci/run sets both); without them the
 * suites that need them skip, loudly.
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

export const POSTGRES_URL = process.env.MINIFLOW_TEST_POSTGRES_URL || undefined;
export const REDIS_URL = process.env.MINIFLOW_TEST_REDIS_URL || undefined;

/**
 * `describe` when `url` is set; otherwise a visible skip: a warning on the console and a skipped
 * test whose title says which variable to set.
 */
export function describeWith(variable: string, url: string | undefined, title: string, body: () => void): void {
  if (url) {
    describe(title, body);
    return;
  }
  const why = `SKIPPED: set ${variable} (e.g. ${variable.includes('REDIS') ? 'redis://127.0.0.1:6379/15' : 'postgresql://postgres@127.0.0.1:5432/test'}) to run "${title}"`;
  // Straight to stderr: jest hides console output of a suite whose tests are all skipped.
  process.stderr.write(`${why}\n`);
  describe(title, () => {
    test.skip(why, () => undefined);
  });
}

/** A name unique to this process and call, safe as a PostgreSQL identifier and a Redis key part. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export interface PgSchema {
  name: string;
  /** The server URL with `search_path` set to this schema: everything the app creates lands in it. */
  url: string;
  drop(): Promise<void>;
}

/** `url` with a libpq `options=-c search_path=<schema>` parameter (pg passes it to the server). */
export function withSearchPath(url: string, schema: string): string {
  // Spelled out rather than through URLSearchParams, whose `+` for a space pg would not decode.
  const param = `options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return url.includes('?') ? `${url}&${param}` : `${url}?${param}`;
}

/**
 * A fresh, empty schema for one test file, so parallel test files and repeated runs never see each
 * other's tables. `drop()` removes it with everything in it.
 */
export async function createPgSchema(serverUrl: string, prefix: string): Promise<PgSchema> {
  const name = uniqueName(prefix).toLowerCase();
  await withClient(serverUrl, (c) => c.query(`CREATE SCHEMA ${name}`));
  return {
    name,
    url: withSearchPath(serverUrl, name),
    drop: () => withClient(serverUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined),
  };
}

/** One short-lived connection (through TypeORM, which brings pg's types along). */
export async function withClient<T>(url: string, fn: (c: DataSource) => Promise<T>): Promise<T> {
  const client = new DataSource({ type: 'postgres', url });
  await client.initialize();
  try {
    return await fn(client);
  } finally {
    await client.destroy();
  }
}
