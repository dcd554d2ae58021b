/** Public surface of the gateway config: load, validate, render. */
export { formatHostPort, type HostPort, parseHostPort } from './fields.js';
export { type ConfigProblem, describeIssues } from './issues.js';
export {
  CONFIG_FILE_NAME,
  type ConfigOverrides,
  configPath,
  loadConfig,
  mergeOverrides,
  parseConfigText,
  resolveDataPath,
  validateConfig,
} from './load.js';
export { type RadioConfig, radioConfigsOf } from './radio.js';
export { renderConfig, renderDefaultConfig } from './render.js';
export {
  BACKEND_KINDS,
  type BackendKind,
  type ConfigInput,
  configSchema,
  type FileConfig,
  type MaverickConfig,
  REGIONS,
  type Region,
} from './schema.js';
export { generatePassword, readMqttPassword, readSecretFile, writeSecretFile } from './secrets.js';
export { defaultGatewayId, initSetup, type SetupOptions, type SetupResult } from './setup.js';
