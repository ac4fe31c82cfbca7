import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

/**
 * A throw-away PostgreSQL schema for tools that need an empty metadata DB on a shared server (the
 * crash soak): its URL has `search_path` set to it, so everything miniflow creates lands there.
 */
export async function createScratchSchema(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const ds = new DataSource({ type: 'postgres', url: serverUrl });
    await ds.initialize();
    try {
      await ds.query(sql);
    } finally {
      await ds.destroy();
    }
  };
  await run(`CREATE SCHEMA ${name}`);
  const param = `options=${encodeURIComponent(`-c search_path=${name}`)}`;
  return {
    url: serverUrl.includes('?') ? `${serverUrl}&${param}` : `${serverUrl}?${param}`,
    drop: () => run(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
  };
}
