import type { Command } from 'commander';
import { configFilePath, listConfigValues, loadSettings } from '../../config/index.js';
import { packageVersion } from '../../util/paths.js';
import { redact } from '../../util/redact.js';

/* `config list`, `version`, `info`: what is installed and configured; none of them opens the metadata DB. */

export function registerConfigList(config: Command): void {
  config
    .command('list')
    .description('every option with its effective value and where it came from (default, airflow.cfg, env)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { output: string }) => {
      const { parseFormat, printJson, printTable } = await import('../output.js'); // not for get-value
      const format = parseFormat(opts.output);
      // Connection URLs carry passwords: redacted wherever they appear.
      const rows = listConfigValues().map((r) => ({ ...r, value: redact(r.value) }));
      if (format === 'json') return printJson(rows);
      printTable(
        ['section', 'key', 'value', 'source'],
        rows.map((r) => [r.section, r.key, r.value, r.source === 'default' ? 'default' : `${r.source} (${r.origin})`]),
      );
    });
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("print miniflow's version")
    .action(() => void process.stdout.write(`${packageVersion()}\n`));
}

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('versions, platform, AIRFLOW_HOME, DAGs folder, metadata DB (redacted), executor, cache backend')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { output: string }) => {
      const { parseFormat, printJson, printTable } = await import('../output.js');
      const format = parseFormat(opts.output);
      const s = loadSettings();
      const info = {
        miniflow_version: packageVersion(),
        node_version: process.version,
        platform: `${process.platform}-${process.arch}`,
        airflow_home: s.airflowHome,
        config_file: configFilePath(),
        dags_folder: s.core.dagsFolder,
        sql_alchemy_conn: redact(s.database.sqlAlchemyConn),
        executor: 'LocalExecutor',
        parallelism: s.core.parallelism,
        task_cache_backend: s.core.taskCacheBackend,
        task_caching_enabled: s.core.taskCachingEnabled,
      };
      if (format === 'json') return printJson(info);
      printTable(
        ['', 'value'],
        Object.entries(info).map(([k, v]) => [k, String(v)]),
      );
    });
}
