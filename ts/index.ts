export * from './errors.js';
export * from './machine/states.js';
export * from './machine/handler.js';
export * from './machine/context.js';
export * from './machine/machine.js';
export * from './machine/builtin-handlers.js';
export * from './machine/default-machine.js';
export * from './db/address.js';
export * from './db/server.js';
export * from './db/connection.js';
export * from './db/sql-values.js';
export * from './db/connect-errors.js';
export * from './db/retry.js';
export * from './machine/coordinator.js';
export * from './db/interleave.js';
export * from './python/index.js';
export { Logger, parseLogFilter, LEVELS, REDACTED, type Level, type LoggerOptions } from './log/logger.js';
export {
  ConfigError,
  DEFAULT_CONFIG_PATHS,
  findConfigFile,
  loadConfigFile,
  parseConfigText,
  resolveSettings,
  obtainPassword,
  promptHidden,
  renderConfig,
  type Settings,
  type TestRigConfig,
} from './config/index.js';
export {
  startLocalServer,
  findServerBinary,
  LocalServerError,
  type LocalServer,
  type LocalServerOptions,
} from './local-server/index.js';
export * from './monitor/index.js';
export { runSuites, RunnerUsageError, defaultSuitesDir, type RunnerOptions } from './runner/command.js';
export { watchSuites } from './runner/watch.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/demo.js';
export { PythonWatcher, type WatcherEvents } from './python/watch.js';
