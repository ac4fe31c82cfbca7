export { loadSettings, getConfigValue } from './load.js';
