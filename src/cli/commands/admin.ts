import type { Command } from 'commander';
import { getConfigValue } from '../../config/index.js';
import { resetMetadataDb } from '../../db/reset.js';
import { requireYes } from '../confirm.js';
import { registerConfigList } from './info.js';
import { withRuntime } from '../with-runtime.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('the metadata database');
  db.command('migrate')
    .description('create or upgrade the metadata DB schema')
    .action(async () => {
      await withRuntime(async (rt) => {
        const ran = await rt.db.appliedMigrations();
        process.stdout.write(`Database migrated (${rt.db.kind}); applied: ${ran.join(', ')}\n`);
      });
    });
  db.command('reset')
    .description('drop every table of the metadata DB and create them again through the migrations')
    .option('-y, --yes', 'required: every run, task instance, XCom and metadata_db cache entry is lost')
    .action(async (opts: { yes?: boolean }) => {
      requireYes(
        opts.yes,
        'db reset',
        'would drop every table of the metadata DB (runs, task instances, XComs, cache entries of the metadata_db backend)',
      );
      await withRuntime(async (rt) => {
        const ran = await resetMetadataDb(rt.db);
        process.stdout.write(
          `Database reset (${rt.db.kind}): every table dropped and created again; applied: ${ran.join(', ')}\n`,
        );
      });
    });
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('airflow.cfg and AIRFLOW__SECTION__KEY settings');
  config
    .command('get-value')
    .description('print the effective value of one option')
    .argument('<section>')
    .argument('<key>')
    .action((section: string, key: string) => {
      process.stdout.write(getConfigValue(section, key) + '\n');
    });
  registerConfigList(config);
}
