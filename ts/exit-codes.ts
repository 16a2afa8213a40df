// The process exit codes of every command, defined once.

/** Everything ran and passed. */
export const EXIT_OK = 0;
/** The command ran and something failed (a case, a connection, a check). */
export const EXIT_FAILED = 1;
/** Usage or configuration error: nothing ran. */
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (128 + SIGINT), after a graceful stop. */
export const EXIT_INTERRUPTED = 130;
/** Stopped by SIGTERM (128 + 15), after the same graceful stop as Ctrl-C. */
export const EXIT_TERMINATED = 143;

// `test-rig monitor` tells its failures apart (docs/monitor.md).
/** monitor: a tracked import job failed or was cancelled. */
export const EXIT_JOB_FAILED = 1;
/** monitor: polling failed fatally, or the server has no SHOW IMPORT JOBS. */
export const EXIT_POLL_ERROR = 2;
/** monitor: a Python event handler raised. */
export const EXIT_HANDLER_ERROR = 3;
