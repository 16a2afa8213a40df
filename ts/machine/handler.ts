// The handler contract shared by TypeScript handlers and Python handlers
// (the embedded CPython addon implements the same shape).
import type { StateContext } from './context.js';

export interface StateHandler<C extends StateContext = StateContext> {
  /** Runs when the machine moves into this state from a different one. The return value is informational and ignored. */
  enter?(ctx: C): unknown | Promise<unknown>;
  /** Runs on every step while in this state; returns the next state (its own state to loop). */
  execute(ctx: C): string | Promise<string>;
  /** Runs when the machine leaves this state for a different one. */
  exit?(ctx: C): void | Promise<void>;
  /** Optional, used in error messages, e.g. "MyHandler (handlers.py:12)". */
  describe?(): string;
  /**
   * Optional, for timeout messages: where a call of this handler that is still
   * running is now. A handler whose one call runs several methods (a Python
   * visit runs enter, execute and exit together) says which, and the line.
   */
  whereNow?(): HandlerLocation | undefined;
}

/** Where a running handler call is: its method, and the innermost line of the user's code. */
export interface HandlerLocation {
  method?: 'enter' | 'execute' | 'exit';
  /** `file:line` */
  at?: string;
}

/** A name for error messages: describe() if present, else the class name. */
export function describeHandler(handler: StateHandler<never>): string {
  try {
    const described = handler.describe?.();
    if (typeof described === 'string' && described !== '') return described;
  } catch {
    // a broken describe() must not hide the error being reported
  }
  const ctorName = (handler as { constructor?: { name?: string } }).constructor?.name;
  return ctorName && ctorName !== 'Object' ? ctorName : 'anonymous handler';
}
