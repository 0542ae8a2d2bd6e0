/**
 * polybroker.yaml: schema, defaults, validation with located errors, and overrides.
 * Areas that own a section add it in `sections/` (see `section.ts`).
 */
export { loadConfig, parseConfig, resolveConfigFile, ConfigError, DEFAULT_CONFIG_FILE, EMBEDDED_DEFAULTS } from './load.js';
export type { LoadOptions, LoadedConfig } from './load.js';
export { configSchema } from './schema.js';
export type { ConfigSection } from './section.js';
export { SECTIONS, type BrokerConfig } from './sections/index.js';
export { LISTENER_NAMES, DEFAULT_PORTS, TLS_LISTENERS, isTlsListener, listenerProtocol, type TlsListenerName, type ListenerName, type ListenerConfig, type ListenersConfig } from './sections/listeners.js';
export type { NodeConfig } from './sections/node.js';
export type { TlsConfig, ClientCertificates, CertificateUser } from './sections/tls.js';
export type { StorageConfig, DurabilityMode } from './sections/storage.js';
export { LOG_LEVELS, type LogConfig, type LogLevel, type LogFormat } from './sections/log.js';
export { formatIssue, formatPath, type ConfigIssue } from './issues.js';
export type { ConfigOverride } from './overrides.js';
export { environmentOverrides } from './overrides.js';
export { didYouMean, editDistance } from './did-you-mean.js';
