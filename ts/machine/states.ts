// State names. States are plain strings compared by name; this module owns the
// canonical spellings and maps every legacy spelling onto them.

export const States = {
  Initial: 'Initial',
  ParsingConfig: 'ParsingConfig',
  Connecting: 'Connecting',
  TestingConnection: 'TestingConnection',
  VerifyingDatabase: 'VerifyingDatabase',
  GettingVersion: 'GettingVersion',
  CheckingImportJobs: 'CheckingImportJobs',
  ShowingImportJobDetails: 'ShowingImportJobDetails',
  Completed: 'Completed',
} as const;

export type BuiltinState = (typeof States)[keyof typeof States];

/** Legacy display strings of the old Rust system, keyed like `squash()` keys. */
const LEGACY_DISPLAY: Record<string, BuiltinState> = {
  parsingconfiguration: States.ParsingConfig,
  connectingtotidb: States.Connecting,
  gettingserverversion: States.GettingVersion,
};

/** Lower-case, separators removed: 'parsing_config', 'Parsing Config' and 'PARSINGCONFIG' all squash alike. */
function squash(s: string): string {
  return s.toLowerCase().replace(/[\s_-]+/g, '');
}

const CANONICAL_BY_KEY: ReadonlyMap<string, string> = new Map([
  ...Object.values(States).map((name) => [squash(name), name] as const),
  ...Object.entries(LEGACY_DISPLAY),
]);

/**
 * The longest state name a handler may return. Names are compared, stored in
 * each case's state history and printed on every step limit; a handler that
 * returns a long string (data, by mistake) fails at once instead of running
 * its step limit out copying it. Error states ('Error: <message>') are exempt.
 */
export const MAX_STATE_NAME_LENGTH = 256;

const ERROR_PREFIX = /^\s*error\s*(?::\s*([\s\S]*))?$/i;

/** The error state carrying `message`: 'Error: <message>'. */
export function errorState(message: string): string {
  return `Error: ${message}`;
}

/** True for 'Error', 'Error: msg' and legacy 'error:msg' (any case). */
export function isErrorState(state: string): boolean {
  return ERROR_PREFIX.test(state);
}

/** The message of an error state ('' for a bare 'Error'); undefined if `state` is not an error state. */
export function errorMessageOf(state: string): string | undefined {
  const m = ERROR_PREFIX.exec(state);
  if (!m) return undefined;
  return (m[1] ?? '').trim();
}

/**
 * Maps legacy and differently cased spellings of the built-in states to the
 * canonical names; error states become 'Error: <message>'. Anything else
 * (custom states such as 'creating_table') is returned unchanged.
 */
export function normalizeState(state: string): string {
  const known = normalized.get(state);
  if (known !== undefined) return known;
  const message = errorMessageOf(state);
  const result =
    message !== undefined
      ? message === ''
        ? 'Error'
        : errorState(message)
      : (CANONICAL_BY_KEY.get(squash(state)) ?? state);
  // Handlers return the same few names on every step; remember them (bounded, error messages vary).
  if (normalized.size < 4096 && message === undefined) normalized.set(state, result);
  return result;
}

const normalized = new Map<string, string>();
