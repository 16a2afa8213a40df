// One format for every error a command prints: `error: <what failed> (hint: <what to do>)`
// on one line. Test-rig's own handlers are no news to the user: a failure in one of them
// ("ConnectingHandler.execute in state 'Connecting' failed: …") is told by its cause alone.
import { StateMachineError } from '../errors.js';
import * as builtins from '../machine/builtin-handlers.js';

const OWN_HANDLERS = new Set<string>(Object.values(builtins).map((handlerClass) => handlerClass.name));

type WithHint = Error & { hint?: unknown };

/** What failed and, when test-rig knows one, what to do about it. */
export interface ExplainedError {
  message: string;
  hint?: string;
}

function hintOf(e: unknown): string | undefined {
  const hint = (e as WithHint | undefined)?.hint;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

/** The error the user should read: a machine failure of test-rig's own handler is its cause. */
function userFacing(e: unknown): unknown {
  let err = e;
  while (
    err instanceof StateMachineError &&
    err.cause instanceof Error &&
    ((err.handler !== undefined && OWN_HANDLERS.has(err.handler)) || hintOf(err.cause) !== undefined)
  ) {
    err = err.cause;
  }
  return err;
}

/** Splits an error into a one-line message and a hint (from `.hint`, a cause's, or an ` — hint` suffix). */
export function explainError(e: unknown): ExplainedError {
  const err = userFacing(e);
  let hint = hintOf(err);
  for (let c = (err as WithHint | undefined)?.cause; c !== undefined && hint === undefined;) {
    hint = hintOf(c);
    c = (c as WithHint).cause;
  }
  let message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  if (hint === undefined) {
    const m = /^(.*?) — (.*)$/.exec(message);
    if (m) [, message, hint] = m as unknown as [string, string, string];
  } else if (message.endsWith(` — ${hint}`)) {
    message = message.slice(0, -` — ${hint}`.length);
  }
  return hint === undefined ? { message } : { message, hint };
}

/** `error: <message> (hint: <hint>)`, one line; an Error is explained first (explainError). */
export function errorLine(e: unknown, hint?: string): string {
  const x = typeof e === 'string' ? { message: e.replace(/\s*\n\s*/g, ' ').trim(), hint } : explainError(e);
  const h = hint ?? x.hint;
  return `error: ${x.message}${h !== undefined && !x.message.includes(h) ? ` (hint: ${h})` : ''}`;
}
