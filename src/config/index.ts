export { loadSettings, getConfigValue, resolveAirflowHome, configFilePath } from './load.js';
export { CONFIG_OPTIONS, findOption, envVarName, type ConfigOption } from './options.js';
export type { Settings } from './settings.js';
