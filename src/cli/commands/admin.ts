import type { Command } from 'commander';
import { getConfigValue } from '../../config/index.js';
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
}
