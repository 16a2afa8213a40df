// Public surface of the import-job monitor.
export { ImportJobMonitor } from './monitor.js';
export type { MonitorOptions, MonitorEvents, PollInfo, PhaseChange } from './monitor.js';
export { runMonitor } from './command.js';
export { EXIT_OK, EXIT_JOB_FAILED, EXIT_POLL_ERROR, EXIT_HANDLER_ERROR } from '../exit-codes.js';
export type { RunMonitorOptions, MonitorEventRecord } from './command.js';
export {
  IMPORT_JOBS_KEY,
  importJobsOf,
  setImportJobs,
  contextMonitor,
  pollImportJobs,
  publishImportJobs,
  CapturingRunner,
} from './context.js';
export type { ImportJobsSnapshot, ContextMonitor } from './context.js';
export {
  CheckingImportJobsHandler,
  ShowingImportJobDetailsHandler,
  installImportJobStates,
} from './states.js';
export type { ImportJobStatesOptions } from './states.js';
export { PythonMonitorHandlers, MONITOR_EVENT_NAMES } from './python.js';
export type { PythonMonitorOptions } from './python.js';
export { parseImportJobRow, parseSize, parseSpeed, parseHms, wallMs, formatWall } from './parse.js';
export type { ParseOptions } from './parse.js';
export { ServerClock } from './clock.js';
export { fromMysql2 } from './mysql2.js';
export {
  plainHeader,
  plainJobLine,
  jobToJson,
  jsonLine,
  tableLines,
  LiveTable,
  formatHms,
  progressBar,
  shouldUseColor,
} from './render.js';
export type { JsonJob, JsonEventName } from './render.js';
export { TERMINAL_STATUSES } from './types.js';
export type { QueryRunner, ImportJobRow, ImportJobLayout, TrackedJob } from './types.js';
