export { loadSettings, getConfigValue, listConfigValues, configFilePath, type ConfigListing } from './load.js';
