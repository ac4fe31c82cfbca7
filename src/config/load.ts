import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, errorMessage } from '../errors.js';
import { closestMatch } from '../util/closest.js';
import { parseCfgText } from './cfg-file.js';
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
  /** Which layer it came from (`config list`). */
  layer: 'env' | 'airflow.cfg' | 'default';
}

/** Where warnings about unknown keys go (stderr by default). */
export type ConfigWarn = (message: string) => void;
const toStderr: ConfigWarn = (message) => void process.stderr.write(`WARNING ${message}\n`);

const SECTIONS = [...new Set(CONFIG_OPTIONS.map((o) => o.section))];
const keysOf = (section: string) => CONFIG_OPTIONS.filter((o) => o.section === section).map((o) => o.key);

/**
 * A hint for a section/key miniflow does not know, or null to stay quiet. Real Airflow configs hold
 * hundreds of keys miniflow ignores (and plugins add their own), so only a near miss of a known
 * key (a typo: at most 2 edits) is worth a warning; anything further away is taken as someone else's.
 */
function unknownKeyHint(section: string, key: string): { section: string; key: string } | null {
  if (findOption(section, key)) return null;
  if (SECTIONS.includes(section)) {
    const near = closestMatch(key, keysOf(section));
    return near ? { section, key: near } : null;
  }
  const nearSection = closestMatch(section, SECTIONS);
  if (nearSection && findOption(nearSection, key)) return { section: nearSection, key };
  return null;
}

/** Everything the option texts come from: env overrides, airflow.cfg, defaults. */
class RawSources {
  private readonly envByName = new Map<string, { name: string; value: string }>();
  private readonly file: Map<string, string>;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly cfgPath: string,
    warn: ConfigWarn,
  ) {
    // Variable names match case-insensitively, as Airflow upper-cases section and key.
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && name.toUpperCase().startsWith('AIRFLOW__')) {
        this.envByName.set(name.toUpperCase(), { name, value });
        const [, section, ...rest] = name.toLowerCase().split('__');
        const hint = section && rest.length ? unknownKeyHint(section, rest.join('__')) : null;
        if (hint) {
          warn(
            `environment variable ${name} is not an option miniflow knows; did you mean \`${envVarName(hint.section, hint.key)}\`? (ignored)`,
          );
        }
      }
    }
    this.file = readConfigFile(cfgPath, warn);
  }

  lookup(option: ConfigOption): RawValue {
    const fromEnv = this.envByName.get(envVarName(option.section, option.key));
    if (fromEnv) return { text: fromEnv.value, source: `environment variable ${fromEnv.name}`, layer: 'env' };
    const fromFile = this.file.get(fileKey(option.section, option.key));
    if (fromFile !== undefined) return { text: fromFile, source: this.cfgPath, layer: 'airflow.cfg' };
    return { text: option.default, source: 'the built-in default', layer: 'default' };
  }
}

function fileKey(section: string, key: string): string {
  return `${section.toLowerCase()}\u0000${key.toLowerCase()}`;
}

/**
 * Reads airflow.cfg into "section\0key" -> text. A missing file is fine (all defaults); a file that
 * cannot be read or has a malformed line is an error naming it. Unknown sections and keys are kept
 * but never looked up (a real Airflow config has hundreds); a near miss of a known key is warned about.
 */
function readConfigFile(cfgPath: string, warn: ConfigWarn): Map<string, string> {
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
  const values = new Map<string, string>();
  for (const entry of parseCfgText(content, cfgPath)) {
    values.set(fileKey(entry.section, entry.key), entry.value);
    const hint = unknownKeyHint(entry.section, entry.key);
    if (hint) {
      warn(
        `${cfgPath} line ${entry.line}: [${entry.section}] ${entry.key} is not an option miniflow knows; did you mean \`${hint.section === entry.section ? hint.key : `[${hint.section}] ${hint.key}`}\`? (ignored)`,
      );
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

function contextFor(env: NodeJS.ProcessEnv, warn: ConfigWarn): { ctx: ParseContext; sources: RawSources } {
  const ctx: ParseContext = { airflowHome: resolveAirflowHome(env), home: defaultHome(env) };
  return { ctx, sources: new RawSources(env, configFilePath(env), warn) };
}

/** The one settled configuration: airflow.cfg, then AIRFLOW__SECTION__KEY overrides, validated. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, warn: ConfigWarn = toStderr): Settings {
  const { ctx, sources } = contextFor(env, warn);
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
export function getConfigValue(
  section: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
  warn: ConfigWarn = toStderr,
): string {
  const option = findOption(section, key);
  if (!option) {
    const near = closestMatch(key, keysOf(section.toLowerCase()));
    throw new ConfigError(
      section,
      key,
      `is not a known option${near ? `; did you mean \`${near}\`?` : ''}; known options: ${CONFIG_OPTIONS.map((o) => `[${o.section}] ${o.key}`).join(', ')}`,
    );
  }
  const { ctx, sources } = contextFor(env, warn);
  return option.kind.format(settle(option, sources, ctx));
}

/** One option as `config list` shows it: its effective value and where that came from. */
export interface ConfigListing {
  section: string;
  key: string;
  value: string;
  /** `default`, `airflow.cfg` or `env`. */
  source: 'default' | 'airflow.cfg' | 'env';
  /** The file path or variable name the value came from (the default: `default`). */
  origin: string;
}

/** Every option miniflow knows with its effective value (validated, as loadSettings would) and source. */
export function listConfigValues(env: NodeJS.ProcessEnv = process.env, warn: ConfigWarn = toStderr): ConfigListing[] {
  const { ctx, sources } = contextFor(env, warn);
  return CONFIG_OPTIONS.map((option) => {
    const raw = sources.lookup(option);
    return {
      section: option.section,
      key: option.key,
      value: option.kind.format(settle(option, sources, ctx)),
      source: raw.layer,
      origin:
        raw.layer === 'env'
          ? raw.source.replace('environment variable ', '')
          : raw.layer === 'default'
            ? 'default'
            : raw.source,
    };
  });
}
