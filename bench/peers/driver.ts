// What every contender driver of the peers benchmark provides (bench/peers.ts
// forks one child per driver file; bench/peers/child.ts runs it).

export const SCENARIOS = {
  s1: '1. trivial call (Python method returning a string), sync',
  s2: '2. 5-field context in, dict out',
  s3: '3. async def awaited from JS',
  s4: '4. handler calls back into JS for SELECT 1 (MariaDB)',
  s5a: '5a. 100 rows × 6 columns, Python → JS',
  s5b: '5b. 100 rows × 6 columns, JS → Python',
} as const;
export type ScenarioId = keyof typeof SCENARIOS;
export const SCENARIO_IDS = Object.keys(SCENARIOS) as ScenarioId[];

/** One operation of a scenario: a sync call looped without awaits, or an awaited one. */
export type Op =
  | { kind: 'sync'; fn: () => unknown }
  | { kind: 'async'; fn: () => unknown } // awaited (a plain value costs one microtask)
  | { kind: 'unsupported'; reason: string };

export interface Contender {
  id: string;
  label: string;
  /** How the contender performs the calls (shown in the doc). */
  how: string;
  ops: Partial<Record<ScenarioId, Op>>;
}

export interface DriverOptions {
  quick: boolean;
  /** node_modules folder holding the peers (node-calls-python, pythonia), if installed. */
  peersDir: string | null;
  /** Why the peers are not installed, when peersDir is null. */
  peersUnavailable: string | null;
  pythonDir: string;
  server: { host: string; port: number; user: string; password: string };
}

export interface Driver {
  /** Contenders this driver exposes (ids and labels known before opening, so failures can be reported). */
  contenders: { id: string; label: string }[];
  open(opts: DriverOptions): Promise<{ contenders: Contender[]; close(): Promise<void> }>;
}

/** The 5-field context of scenario 2 (what a handler typically reads). */
export const context5 = {
  host: '127.0.0.1',
  port: 3306,
  username: 'root',
  database: 'bench',
  params: { n: 3 },
};

/** Scenario 5's rows: 100 rows of int, str, float, bool, null-or-str, ISO timestamp string. */
export function makeRows(n = 100): unknown[][] {
  return Array.from({ length: n }, (_, i) => [
    i,
    `name-${i}`,
    i * 1.5,
    i % 2 === 0,
    i % 3 ? null : `note ${i}`,
    `2026-01-${String((i % 28) + 1).padStart(2, '0')}T12:00:00`,
  ]);
}
