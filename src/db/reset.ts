import type { MetadataDb } from './data-source.js';

/**
 * `db reset`: drops every table of the metadata DB (the migrations table too) and runs the
 * migrations again, so the schema is exactly what a fresh `db migrate` makes. On PostgreSQL only
 * the connection's current schema is touched. Nothing else may be using the DB meanwhile.
 */
export async function resetMetadataDb(db: MetadataDb): Promise<string[]> {
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  if (db.kind === 'sqlite') {
    // Views first (one reads task_instance), then tables; triggers and indexes go with their tables.
    const objects = await db.query<{ type: string; name: string }[]>(
      "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table'",
    );
    for (const { type, name } of objects)
      await db.exec(`DROP ${type === 'view' ? 'VIEW' : 'TABLE'} IF EXISTS ${quote(name)}`);
  } else {
    const views = await db.query<{ viewname: string }[]>(
      'SELECT viewname FROM pg_views WHERE schemaname = current_schema()',
    );
    for (const { viewname } of views) await db.exec(`DROP VIEW IF EXISTS ${quote(viewname)} CASCADE`);
    const tables = await db.query<{ tablename: string }[]>(
      'SELECT tablename FROM pg_tables WHERE schemaname = current_schema()',
    );
    for (const { tablename } of tables) await db.exec(`DROP TABLE IF EXISTS ${quote(tablename)} CASCADE`);
  }
  await db.migrate();
  return db.appliedMigrations();
}
