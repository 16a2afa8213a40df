// What Python reports about a handler class, in a module of its own so that the
// watcher can name it without importing the handlers that use the watcher.
export type Method = 'enter' | 'execute' | 'exit';

/** What Python reports about a handler class (test_rig/_discovery.py describe()). */
export interface HandlerInfo {
  name: string;
  module: string;
  file: string | null;
  line: number;
  state: string | null;
  inline: boolean;
  requires: unknown;
  tags: string[];
  methods: Record<Method, { async: boolean; line: number; file: string | null; overridden: boolean }>;
  doc: string;
  /** Its file imports the old rig's API (`test_rig_python`): an old-style handler. */
  legacy?: boolean;
}
