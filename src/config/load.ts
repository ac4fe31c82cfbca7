import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ini from 'ini';
import { ConfigError, errorMessage } from '../errors.js';
import { CONFIG_OPTIONS, envVarName, findOption, type ConfigOption } from './options.js';
import type { Settings } from './settings.js';
import { defaultHome, InvalidValue, resolvePath, type ParseContext } from './value-kinds.js';

/** AIRFLOW_HOME as Airflow finds it: the variable, else `~/airflow`; always absolute. */
export function resolveAirflowHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = defaultHome(env);
  const raw = env.AIRFLOW_HOME?.trim() || '~/airflow';
  return resolvePath(raw, { airflowHome: process.cwd(), home });
}

/** `AIRFLOW_CONFIG` when set (as in Airflow), else `${AIRFLOW_HOME}/airflow.cfg`. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const airflowHome = resolveAirflowHome(env);
  const explicit = env.AIRFLOW_CONFIG?.trim();
  return explicit ? resolve(airflowHome, explicit) : resolve(airflowHome, 'airflow.cfg');
}

/** A raw option text and where it came from, for error messages. */
interface RawValue {
  text: string;
  source: string;
}

/** Everything the option texts come from: env overrides, airflow.cfg, defaults. */
class RawSources {
  private readonly envByName = new Map<string, { name: string; value: string }>();
  private readonly file: Map<string, string>;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly cfgPath: string,
  ) {
    // Variable names match case-insensitively, as Airflow upper-cases section and key.
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && name.toUpperCase().startsWith('AIRFLOW__')) {
        this.envByName.set(name.toUpperCase(), { name, value });
      }
    }
    this.file = readConfigFile(cfgPath);
  }

  lookup(option: ConfigOption): RawValue {
    const fromEnv = this.envByName.get(envVarName(option.section, option.key));
    if (fromEnv) return { text: fromEnv.value, source: `environment variable ${fromEnv.name}` };
    const fromFile = this.file.get(fileKey(option.section, option.key));
    if (fromFile !== undefined) return { text: fromFile, source: this.cfgPath };
    return { text: option.default, source: 'the built-in default' };
  }
}

function fileKey(section: string, key: string): string {
  return `${section.toLowerCase()}\u0000${key.toLowerCase()}`;
}

/**
 * Reads airflow.cfg into "section\0key" -> text. A missing file is fine (all defaults); any other
 * read failure is a ConfigError. Unknown sections and keys are kept but never looked up, since a
 * real Airflow config has hundreds of them.
 */
function readConfigFile(cfgPath: string): Map<string, string> {
  let content: string;
  try {
    content = readFileSync(cfgPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new Map();
    throw new ConfigError(
      'airflow.cfg',
      cfgPath,
      `cannot be read (${errorMessage(err)}); fix its permissions or point AIRFLOW_HOME elsewhere`,
    );
  }
  // bracketedArray off: `key[]` has no special meaning in airflow.cfg.
  const parsed = ini.parse(content, { bracketedArray: false }) as Record<string, unknown>;
  const values = new Map<string, string>();
  for (const [section, body] of Object.entries(parsed)) {
    if (!body || typeof body !== 'object') continue; // a key above any section header
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      // ini turns true/false/null into JS values; the option kinds parse text.
      if (value === null || typeof value !== 'object') values.set(fileKey(section, key), String(value));
    }
  }
  return values;
}

function settle(option: ConfigOption, sources: RawSources, ctx: ParseContext): unknown {
  const raw = sources.lookup(option);
  const text = raw.text.replaceAll('{AIRFLOW_HOME}', ctx.airflowHome);
  try {
    return option.kind.parse(text, ctx);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new ConfigError(
      option.section,
      option.key,
      `value '${raw.text}' from ${raw.source} is not valid: expected ${option.kind.expected}; fix it there`,
    );
  }
}

function contextFor(env: NodeJS.ProcessEnv): { ctx: ParseContext; sources: RawSources } {
  const ctx: ParseContext = { airflowHome: resolveAirflowHome(env), home: defaultHome(env) };
  return { ctx, sources: new RawSources(env, configFilePath(env)) };
}

/** The one settled configuration: airflow.cfg, then AIRFLOW__SECTION__KEY overrides, validated. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const { ctx, sources } = contextFor(env);
  const groups: Record<string, Record<string, unknown>> = {};
  for (const option of CONFIG_OPTIONS) {
    const [group, field] = option.field;
    (groups[group] ??= {})[field] = settle(option, sources, ctx);
  }
  return { airflowHome: ctx.airflowHome, ...groups } as unknown as Settings;
}

/**
 * The effective value of one option as text (what `miniflow config get-value SECTION KEY` prints).
 * Only that option is validated, so a bad value elsewhere does not hide this one.
 */
export function getConfigValue(section: string, key: string, env: NodeJS.ProcessEnv = process.env): string {
  const option = findOption(section, key);
  if (!option) {
    throw new ConfigError(
      section,
      key,
      `is not a known option; known options: ${CONFIG_OPTIONS.map((o) => `[${o.section}] ${o.key}`).join(', ')}`,
    );
  }
  const { ctx, sources } = contextFor(env);
  return option.kind.format(settle(option, sources, ctx));
}
