import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConfigValue, loadSettings, resolveAirflowHome } from '../../src/config/load.js';
import { CONFIG_OPTIONS } from '../../src/config/options.js';
import { renderExampleConfig } from '../../src/config/write-example.js';
import { packageRoot } from '../../src/util/paths.js';
import { ConfigError } from '../../src/errors.js';

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'miniflow-config-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function writeCfg(text: string): string {
  const file = join(home, 'airflow.cfg');
  writeFileSync(file, text);
  return file;
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { AIRFLOW_HOME: home, HOME: '/home/someone', ...extra };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  test('defaults without airflow.cfg, paths under AIRFLOW_HOME', () => {
    const s = loadSettings(env());
    expect(s).toEqual({
      airflowHome: home,
      core: {
        dagsFolder: join(home, 'dags'),
        parallelism: 4,
        executor: 'LocalExecutor',
        multiTeam: false,
        taskCachingEnabled: true,
        taskCacheDefaultTtl: 0,
        taskCacheBackend: 'metadata_db',
        taskCacheCheckTimeout: 0.5,
        taskCacheGcInterval: 3600,
        maxCacheEntryBytes: 1048576,
        maxMapLength: 1024,
        maxCacheTotalBytes: 0,
        maxCacheTeamBytes: 0,
        maxXcomBytes: 4194304,
        templateRenderTimeout: 5,
        maxRenderedFieldBytes: 1048576,
        defaultTaskRetries: 0,
        defaultRetryDelay: 300,
        callableMap: '',
        maxActiveRunsPerDag: 16,
        dagsArePausedAtCreation: true,
      },
      database: { sqlAlchemyConn: `sqlite:///${join(home, 'airflow.db')}` },
      scheduler: {
        idleSleepTime: 0.05,
        taskHeartbeatTimeout: 30,
        heartbeatInterval: 5,
        dagDirListInterval: 30,
        catchupByDefault: false,
        dbUnavailableTimeout: 300,
      },
      logging: { baseLogFolder: join(home, 'logs'), maxLogBytesPerTry: 104857600 },
      dagProcessor: { dagBundleConfigList: '' },
      redis: { url: 'redis://127.0.0.1:6379/0' },
      bullmq: { redisUrl: '', queuePrefix: 'miniflow', lockDuration: 30 },
      api: { host: '127.0.0.1', port: 8080, authToken: '' },
    });
  });

  test('[core] executor and the [bullmq] keys are checked', () => {
    const s = loadSettings(
      env({
        AIRFLOW__CORE__EXECUTOR: 'BullMQExecutor',
        AIRFLOW__BULLMQ__REDIS_URL: 'redis://10.0.0.5:6379/3',
        AIRFLOW__BULLMQ__QUEUE_PREFIX: 'team-a',
      }),
    );
    expect([s.core.executor, s.bullmq.redisUrl, s.bullmq.queuePrefix]).toEqual([
      'BullMQExecutor',
      'redis://10.0.0.5:6379/3',
      'team-a',
    ]);
    expect(() => loadSettings(env({ AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor' }))).toThrow(/executor/);
    expect(() => loadSettings(env({ AIRFLOW__BULLMQ__QUEUE_PREFIX: 'a:b' }))).toThrow(/queue_prefix/);
    expect(() => loadSettings(env({ AIRFLOW__BULLMQ__REDIS_URL: 'localhost' }))).toThrow(/redis_url/);
  });

  test('AIRFLOW_HOME defaults to ~/airflow', () => {
    expect(resolveAirflowHome({ HOME: '/home/someone' })).toBe('/home/someone/airflow');
    expect(resolveAirflowHome({ HOME: '/home/someone', AIRFLOW_HOME: '~/af' })).toBe('/home/someone/af');
  });

  test('airflow.cfg values are read, case-insensitively, and unknown keys ignored', () => {
    writeCfg(
      [
        '[core]',
        'PARALLELISM = 8',
        'multi_team = True',
        'dags_folder = my_dags',
        'load_examples = False',
        '[Scheduler]',
        'scheduler_idle_sleep_time = 1.5',
        '[webserver]',
        'web_server_port = 8080',
        '[dag_processor]',
        'dag_bundle_config_list = [{"name": "a", "kwargs": {"path": "dags/a"}, "team_name": "t1"}]',
      ].join('\n'),
    );
    const s = loadSettings(env());
    expect(s.core.parallelism).toBe(8);
    expect(s.core.multiTeam).toBe(true);
    expect(s.core.dagsFolder).toBe(join(home, 'my_dags'));
    expect(s.scheduler.idleSleepTime).toBe(1.5);
    expect(JSON.parse(s.dagProcessor.dagBundleConfigList)).toEqual([
      { name: 'a', kwargs: { path: 'dags/a' }, team_name: 't1' },
    ]);
  });

  test('AIRFLOW__SECTION__KEY overrides airflow.cfg, in any case', () => {
    writeCfg('[core]\nparallelism = 8\n[logging]\nbase_log_folder = /var/log/af\n');
    const s = loadSettings(
      env({
        AIRFLOW__CORE__PARALLELISM: '2',
        airflow__logging__base_log_folder: 'rel/logs',
        AIRFLOW__CORE__NOT_A_KEY: 'x',
      }),
    );
    expect(s.core.parallelism).toBe(2);
    expect(s.logging.baseLogFolder).toBe(join(home, 'rel/logs'));
  });

  test('{AIRFLOW_HOME} is substituted and sqlite paths become absolute', () => {
    writeCfg('[core]\ndags_folder = {AIRFLOW_HOME}/flows\n[database]\nsql_alchemy_conn = sqlite:///meta.db\n');
    const s = loadSettings(env());
    expect(s.core.dagsFolder).toBe(join(home, 'flows'));
    expect(s.database.sqlAlchemyConn).toBe(`sqlite:///${join(home, 'meta.db')}`);
    expect(loadSettings(env({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'plain.db' })).database.sqlAlchemyConn).toBe(
      `sqlite:///${join(home, 'plain.db')}`,
    );
    const pg = 'postgresql://u:p@localhost:5432/af';
    expect(loadSettings(env({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: pg })).database.sqlAlchemyConn).toBe(pg);
  });

  test.each([
    ['True', true],
    ['False', false],
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
    ['ON', true],
  ])('boolean %s', (text, expected) => {
    expect(loadSettings(env({ AIRFLOW__CORE__MULTI_TEAM: text })).core.multiTeam).toBe(expected);
  });

  test('a bad boolean from an env var names section, key, value, source and what is expected', () => {
    const err = configError(() => loadSettings(env({ AIRFLOW__CORE__TASK_CACHING_ENABLED: 'maybe' })));
    expect(err.section).toBe('core');
    expect(err.key).toBe('task_caching_enabled');
    expect(err.message).toContain('[core] task_caching_enabled');
    expect(err.message).toContain("'maybe'");
    expect(err.message).toContain('AIRFLOW__CORE__TASK_CACHING_ENABLED');
    expect(err.message).toContain('True/False');
  });

  test('a bad value in airflow.cfg names the file', () => {
    const file = writeCfg('[core]\nparallelism = 0\n');
    const err = configError(() => loadSettings(env()));
    expect(err.message).toContain('[core] parallelism');
    expect(err.message).toContain(file);
    expect(err.message).toContain('an integer >= 1');
  });

  test.each([
    ['AIRFLOW__CORE__PARALLELISM', '2.5'],
    ['AIRFLOW__CORE__PARALLELISM', ''],
    ['AIRFLOW__CORE__TASK_CACHE_DEFAULT_TTL', '-1'],
    ['AIRFLOW__CORE__TASK_CACHE_CHECK_TIMEOUT', '0'],
    ['AIRFLOW__CORE__TASK_CACHE_GC_INTERVAL', 'hourly'],
    ['AIRFLOW__CORE__MAX_CACHE_ENTRY_BYTES', '-5'],
    ['AIRFLOW__CORE__DEFAULT_TASK_RETRIES', 'x'],
    ['AIRFLOW__CORE__TASK_CACHE_BACKEND', 'memcached'],
    ['AIRFLOW__CORE__TASK_CACHE_BACKEND', 'mod.js:not-an-identifier'],
    ['AIRFLOW__SCHEDULER__TASK_HEARTBEAT_TIMEOUT', '0'],
    ['AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST', '{"name": "a"}'],
    ['AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST', '[not json'],
    ['AIRFLOW__REDIS__URL', 'localhost:6379'],
  ])('%s=%j is rejected', (name, value) => {
    const err = configError(() => loadSettings(env({ [name]: value })));
    expect(err.message).toContain(name);
  });

  test('cache backend: built-in names, or a module path made absolute against AIRFLOW_HOME', () => {
    expect(loadSettings(env({ AIRFLOW__CORE__TASK_CACHE_BACKEND: 'redis' })).core.taskCacheBackend).toBe('redis');
    expect(
      loadSettings(env({ AIRFLOW__CORE__TASK_CACHE_BACKEND: 'plugins/cache.js:MyBackend' })).core.taskCacheBackend,
    ).toBe(`${join(home, 'plugins/cache.js')}:MyBackend`);
    expect(loadSettings(env({ AIRFLOW__CORE__TASK_CACHE_BACKEND: '/opt/b.js:B' })).core.taskCacheBackend).toBe(
      '/opt/b.js:B',
    );
  });

  test('an unreadable airflow.cfg is a ConfigError naming the file', () => {
    mkdirSync(join(home, 'airflow.cfg')); // a directory cannot be read as a file, even as root
    const err = configError(() => loadSettings(env()));
    expect(err.message).toContain(join(home, 'airflow.cfg'));
    expect(err.message).toContain('cannot be read');
  });

  test('an unreadable airflow.cfg (permissions) is a ConfigError', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const file = writeCfg('[core]\nparallelism = 3\n');
    chmodSync(file, 0o000);
    expect(() => loadSettings(env())).toThrow(ConfigError);
  });
});

describe('getConfigValue', () => {
  test('prints the effective value of one option', () => {
    writeCfg('[core]\nparallelism = 7\n');
    expect(getConfigValue('core', 'parallelism', env())).toBe('7');
    expect(getConfigValue('CORE', 'Multi_Team', env({ AIRFLOW__CORE__MULTI_TEAM: 'yes' }))).toBe('True');
    expect(getConfigValue('core', 'dags_folder', env())).toBe(join(home, 'dags'));
    expect(getConfigValue('dag_processor', 'dag_bundle_config_list', env())).toBe('');
  });

  test('an unknown option is a ConfigError saying so', () => {
    const err = configError(() => getConfigValue('core', 'no_such_key', env()));
    expect(err.message).toContain('[core] no_such_key');
    expect(err.message).toContain('not a known option');
    expect(() => getConfigValue('webserver', 'web_server_port', env())).toThrow(/not a known option/);
  });

  test('a bad value elsewhere does not hide the asked one', () => {
    expect(getConfigValue('core', 'parallelism', env({ AIRFLOW__CORE__MULTI_TEAM: 'maybe' }))).toBe('4');
  });
});

describe('airflow.cfg.example', () => {
  test('the committed file equals renderExampleConfig()', () => {
    expect(readFileSync(join(packageRoot(), 'airflow.cfg.example'), 'utf8')).toBe(renderExampleConfig());
  });

  test('lists every option with its default, and loads back to the defaults', () => {
    const example = renderExampleConfig();
    for (const o of CONFIG_OPTIONS) expect(example).toContain(`\n${o.key} =${o.default ? ` ${o.default}` : ''}\n`);
    writeCfg(example);
    const defaults = loadSettings(env({ AIRFLOW_CONFIG: join(home, 'missing.cfg') }));
    expect(loadSettings(env())).toEqual(defaults);
  });
});
