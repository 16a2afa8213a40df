// ctx.customData's values that both languages see, kept in the Python context's
// custom_data dict (python/test_rig/_shared_data.py): each access is one call on
// the JS thread, and values cross as copies.
import type { SharedStore } from '../machine/data-share.js';
import type { PyRef } from './native.js';

/** What the store needs of the Python runtime (an interface: the runtime imports this module, not the reverse). */
export interface SharedDataRuntime {
  call(target: PyRef, method: string | null, args?: unknown[]): unknown;
  readonly fn: {
    readonly shared_get: PyRef;
    readonly shared_set: PyRef;
    readonly shared_delete: PyRef;
    readonly shared_keys: PyRef;
  };
}

export class PythonSharedData implements SharedStore {
  readonly #runtime: SharedDataRuntime;
  readonly #ctx: PyRef;

  constructor(runtime: SharedDataRuntime, pythonContext: PyRef) {
    this.#runtime = runtime;
    this.#ctx = pythonContext;
  }

  get(key: string): { found: boolean; value?: unknown } {
    const [found, value] = this.#runtime.call(this.#runtime.fn.shared_get, null, [this.#ctx, key]) as [
      boolean,
      unknown?,
    ];
    return found ? { found, value } : { found };
  }

  set(key: string, value: unknown): void {
    this.#runtime.call(this.#runtime.fn.shared_set, null, [this.#ctx, key, value]);
  }

  delete(key: string): boolean {
    return this.#runtime.call(this.#runtime.fn.shared_delete, null, [this.#ctx, key]) as boolean;
  }

  keys(): string[] {
    return this.#runtime.call(this.#runtime.fn.shared_keys, null, [this.#ctx]) as string[];
  }
}
